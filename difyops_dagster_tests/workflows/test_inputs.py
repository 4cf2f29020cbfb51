"""Launchpad inputs are checked against the app's form before Dify is called, each error naming the input."""

from __future__ import annotations

from difyops_dagster.dify.models import InputField
from difyops_dagster.workflows.inputs import input_errors

FORM = [
    InputField("text", "paragraph", "Text", required=True, max_length=10),
    InputField("style", "select", "Style", options=("short", "long")),
    InputField("count", "number", "Count"),
]


def test_acceptable_inputs_give_no_errors():
    assert input_errors(FORM, {"text": "hello", "style": "short", "count": "3"}) == []


def test_each_problem_names_its_input():
    errors = input_errors(FORM, {"style": "medium", "count": "three", "extra": 1})
    assert errors == [
        "unknown input 'extra' (the app takes: text, style, count)",
        "input 'text' (Text) is required",
        "input 'style' must be one of ['short', 'long'], got 'medium'",
        "input 'count' must be a number, got 'three'",
    ]


def test_wrong_types_and_lengths_are_reported():
    assert input_errors(FORM, {"text": 5}) == ["input 'text' must be text, got int"]
    assert input_errors(FORM, {"text": "x" * 11}) == ["input 'text' is longer than 10 characters"]
    assert input_errors(FORM, {"text": "ok", "count": True}) == ["input 'count' must be a number, got True"]
