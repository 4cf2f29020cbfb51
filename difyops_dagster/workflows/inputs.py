"""Launchpad inputs checked against the app's `GET /parameters` form before Dify is called. Pure.

Dify answers a bad input with a generic 400 after the request; checking first names the input and the rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from difyops_dagster.dify.models import InputField


def input_errors(form: Iterable[InputField], inputs: Mapping[str, Any]) -> list[str]:
    """Every problem with `inputs`, one sentence each, naming the input; empty when they are acceptable."""
    fields = {f.variable: f for f in form}
    errors = [
        f"unknown input '{name}' (the app takes: {', '.join(fields) or 'none'})"
        for name in inputs
        if name not in fields
    ]
    for field in fields.values():
        value = inputs.get(field.variable)
        if value is None or value == "":
            if field.required:
                errors.append(f"input '{field.variable}' ({field.label}) is required")
            continue
        if field.kind == "number":
            if isinstance(value, bool) or not _is_number(value):
                errors.append(f"input '{field.variable}' must be a number, got {value!r}")
        elif field.kind in ("text-input", "paragraph", "select"):
            if not isinstance(value, str):
                errors.append(f"input '{field.variable}' must be text, got {type(value).__name__}")
            elif field.kind == "select" and field.options and value not in field.options:
                errors.append(f"input '{field.variable}' must be one of {list(field.options)}, got {value!r}")
            elif field.max_length and len(value) > field.max_length:
                errors.append(f"input '{field.variable}' is longer than {field.max_length} characters")
    return errors


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
