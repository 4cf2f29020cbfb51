"""An app's input form (`user_input_form`) and what Dify does with a run's `inputs` against it.

Mirrors `BaseAppGenerator._prepare_user_inputs` / `_validate_inputs` (Dify 1.13): only the form's variables are
kept (unknown keys are dropped silently), a missing optional variable takes its default (or null), and every
problem is a ValueError with Dify's message, which the API answers as 400 `invalid_param`. A number given as a
list or dict is a TypeError in Dify, hence a 500.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

FORM_KINDS = ("text-input", "paragraph", "select", "number")
DEFAULT_FORM = (
    {"text-input": {"label": "Query", "variable": "query", "required": True, "max_length": 256, "default": ""}},
)


def parse_form(form: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Check an admin-supplied form: one kind per item, a variable name, options for selects."""
    parsed = []
    for item in form:
        if not isinstance(item, Mapping) or len(item) != 1:
            raise ValueError("each user_input_form item is {kind: {label, variable, ...}}")
        kind, spec = next(iter(item.items()))
        if kind not in FORM_KINDS:
            raise ValueError(f"user_input_form kind {kind!r} is not one of {list(FORM_KINDS)}")
        if not isinstance(spec, Mapping) or not spec.get("variable"):
            raise ValueError(f"user_input_form {kind} item needs a variable")
        if kind == "select" and not isinstance(spec.get("options"), list):
            raise ValueError(f"select {spec['variable']!r} needs options")
        parsed.append({kind: {"label": spec.get("label", spec["variable"]), "required": False, **spec}})
    return parsed


def _entries(form: Sequence[Mapping[str, Any]]):
    for item in form:
        kind, spec = next(iter(item.items()))
        yield kind, spec


def _validate(kind: str, spec: Mapping[str, Any], value: Any) -> Any:
    variable = spec["variable"]
    if value is None:
        if spec.get("required"):
            raise ValueError(f"{variable} is required in input form")
        value = spec.get("default")
        if value is None:
            return None
    if kind in ("text-input", "select", "paragraph") and not isinstance(value, str):
        raise ValueError(f"(type '{kind}') {variable} in input form must be a string")
    if kind == "number":
        if isinstance(value, int | float):
            return value
        if not isinstance(value, str):
            raise TypeError(f"expected value type int, float or str, got {type(value)}, value: {value}")
        if not value.strip():
            return None
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            raise ValueError(f"{variable} in input form must be a valid number") from None
    if kind == "select" and value not in spec.get("options", []):
        raise ValueError(f"{variable} in input form must be one of the following: {spec.get('options')}")
    max_length = spec.get("max_length")
    if kind in ("text-input", "paragraph") and max_length and len(value) > max_length:
        raise ValueError(f"{variable} in input form must be less than {max_length} characters")
    return value


def prepare_inputs(form: Sequence[Mapping[str, Any]], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs Dify stores with the run: one entry per form variable, validated, NUL bytes removed."""
    prepared = {spec["variable"]: _validate(kind, spec, inputs.get(spec["variable"])) for kind, spec in _entries(form)}
    bad = [
        k
        for k, v in prepared.items()
        if isinstance(v, dict) or (isinstance(v, list) and any(isinstance(i, dict) for i in v))
    ]
    if bad:
        raise ValueError(f"Invalid input type for {bad}")
    return {k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in prepared.items()}


def sample_inputs(form: Sequence[Mapping[str, Any]], pick: Any, n: int) -> dict[str, Any]:
    """Plausible inputs for seeded runs: `pick(seq)` chooses (a seeded RNG's `choice`), `n` numbers the row."""
    inputs: dict[str, Any] = {}
    for kind, spec in _entries(form):
        variable = spec["variable"]
        if kind == "select":
            inputs[variable] = pick(spec["options"]) if spec["options"] else None
        elif kind == "number":
            inputs[variable] = n % 100
        elif kind == "paragraph":
            inputs[variable] = f"{pick(TOPICS)} notes, part {n % 97}: {pick(TOPICS)} and {pick(TOPICS)}."
        else:
            inputs[variable] = f"{pick(QUESTIONS)} {pick(TOPICS)} #{n % 1000}"
    return inputs


QUESTIONS = ("How do I configure", "What is", "Summarize", "Explain", "Compare", "Troubleshoot")
TOPICS = ("billing", "the VPN", "onboarding", "refunds", "SSO login", "the API quota", "invoices", "backups")
