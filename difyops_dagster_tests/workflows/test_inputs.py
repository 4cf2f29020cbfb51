"""Launchpad inputs are checked against the app's `/parameters` form before Dify is called, with Dify's own
rules (required, numbers as numbers or numeric strings, select options, max_length, file objects), and every
problem names its input; keys the form does not declare are refused because Dify would silently drop them.
"""

from __future__ import annotations

import pytest

from difyops_dagster.dify.models import InputField
from difyops_dagster.workflows.inputs import InputProblem, check_inputs, describe_problems

FORM = (
    InputField("text", "paragraph", "Text", required=True, max_length=10),
    InputField("style", "select", "Style", options=("short", "long")),
    InputField("count", "number", "Count"),
    InputField("doc", "file", "Document"),
)


def problems(inputs: dict) -> list[str]:
    return [str(problem) for problem in check_inputs(FORM, inputs)]


def test_acceptable_inputs_give_no_problems():
    assert problems({"text": "hello", "style": "short", "count": 3}) == []


@pytest.mark.parametrize("count", [3, 2.5, "3", "-1.5e3"])
def test_numbers_may_be_numbers_or_numeric_strings_as_dify_accepts_both(count):
    assert problems({"text": "t", "count": count}) == []


@pytest.mark.parametrize("count", ["three", True, [1], {"n": 1}])
def test_anything_else_is_not_a_number(count):
    assert problems({"text": "t", "count": count}) == [f"input 'count' must be a number, got {count!r}"]


def test_every_problem_names_its_input_form_order_first_then_unknown_keys():
    assert problems({"style": "medium", "count": "three", "extra": 1}) == [
        "input 'text' (Text) is required",
        "input 'style' must be one of ['short', 'long'], got 'medium'",
        "input 'count' must be a number, got 'three'",
        "input 'extra' is not an input of this app (it takes: text, style, count, doc)",
    ]


def test_an_empty_required_input_counts_as_missing():
    assert problems({"text": ""}) == ["input 'text' (Text) is required"]


def test_an_empty_optional_select_is_refused_like_dify_does_but_empty_text_is_fine():
    assert problems({"text": "t", "style": ""}) == ["input 'style' must be one of ['short', 'long'], got ''"]
    assert problems({"text": "t", "count": ""}) == []


def test_text_must_be_a_string_within_max_length():
    assert problems({"text": 5}) == ["input 'text' must be text, got int"]
    assert problems({"text": "x" * 11}) == ["input 'text' is 11 characters long; the app allows at most 10"]
    assert problems({"text": "x" * 10}) == []


def test_file_inputs_must_be_dify_file_objects():
    remote = {"type": "document", "transfer_method": "remote_url", "url": "https://example.com/a.pdf"}
    assert problems({"text": "t", "doc": remote}) == []
    assert problems({"text": "t", "doc": "a.pdf"}) == [
        "input 'doc' must be a file object {type, transfer_method, url | upload_file_id}"
    ]


def test_problems_join_into_one_failure_sentence():
    joined = describe_problems([InputProblem("a", "is required"), InputProblem("b", "must be text, got int")])
    assert joined == "input 'a' is required; input 'b' must be text, got int"


def test_an_app_without_inputs_refuses_any_input():
    assert [str(p) for p in check_inputs((), {"q": "x"})] == ["input 'q' is not an input of this app (it takes: none)"]
