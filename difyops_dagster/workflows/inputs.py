"""Launchpad inputs, merged over the app's defaults and checked against its `GET /parameters` form. Pure.

Dify rejects a bad input only after the run request, with one generic 400 (`invalid_param`) for the first
problem; checking first lets the failure name every bad input and the rule it breaks, and no run is created.
The rules follow Dify's own (`BaseAppGenerator._validate_inputs`): required means present and not empty; numbers
may be sent as numeric strings; select values must be one of the options; text obeys `max_length`. Keys the form
does not declare are refused too: Dify would silently drop them, which hides a misspelt input name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from difyops_dagster.dify.models import InputField

TEXT_KINDS = frozenset({"text-input", "paragraph", "select"})


@dataclass(frozen=True)
class InputProblem:
    """One bad input: its variable name and what is wrong, in words an operator can act on."""

    variable: str
    problem: str

    def __str__(self) -> str:
        return f"input '{self.variable}' {self.problem}"


def check_inputs(form: Iterable[InputField], inputs: Mapping[str, Any]) -> tuple[InputProblem, ...]:
    """Every problem with `inputs` against the form, form order first, then unknown keys; empty when fine."""
    fields = {field.variable: field for field in form}
    problems = [problem for field in fields.values() if (problem := _check_one(field, inputs.get(field.variable)))]
    accepted = ", ".join(fields) or "none"
    problems += [
        InputProblem(name, f"is not an input of this app (it takes: {accepted})")
        for name in inputs
        if name not in fields
    ]
    return tuple(problems)


def describe_problems(problems: Iterable[InputProblem]) -> str:
    return "; ".join(str(problem) for problem in problems)


def _check_one(field: InputField, value: Any) -> InputProblem | None:
    name = field.variable
    if value is None or (value == "" and field.required):
        return InputProblem(name, f"({field.label}) is required") if field.required else None
    if value == "" and field.kind != "select":  # Dify treats it as not given; a select still wants an option
        return None
    if field.kind == "number":
        if isinstance(value, bool) or not _is_number(value):
            return InputProblem(name, f"must be a number, got {value!r}")
    elif field.kind in TEXT_KINDS:
        if not isinstance(value, str):
            return InputProblem(name, f"must be text, got {type(value).__name__}")
        if field.kind == "select" and field.options and value not in field.options:
            return InputProblem(name, f"must be one of {list(field.options)}, got {value!r}")
        if field.max_length and len(value) > field.max_length:
            return InputProblem(name, f"is {len(value)} characters long; the app allows at most {field.max_length}")
    elif field.kind == "file" and not _is_file(value):
        return InputProblem(name, "must be a file object {type, transfer_method, url | upload_file_id}")
    elif field.kind == "file-list" and not (isinstance(value, list) and all(_is_file(item) for item in value)):
        return InputProblem(name, "must be a list of file objects {type, transfer_method, url | upload_file_id}")
    return None


def _is_number(value: Any) -> bool:
    if isinstance(value, int | float):
        return True
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def _is_file(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and value.get("transfer_method") in ("remote_url", "local_file")
        and bool(value.get("url") or value.get("upload_file_id"))
    )
