"""A run's inputs against the app's form, as Dify 1.13's BaseAppGenerator handles them: unknown keys dropped,
defaults for missing optional variables, Dify's exact messages for each kind of bad value."""

from __future__ import annotations

import pytest

from dify_standin.workflow_inputs import parse_form, prepare_inputs

FORM = parse_form(
    [
        {"text-input": {"variable": "name", "required": True, "max_length": 5}},
        {"paragraph": {"variable": "notes", "default": "none"}},
        {"select": {"variable": "tone", "options": ["dry", "warm"]}},
        {"number": {"variable": "count"}},
    ]
)


def test_unknown_inputs_are_dropped_and_missing_optional_ones_take_their_default_or_null():
    assert prepare_inputs(FORM, {"name": "Ada", "extra": "x"}) == {
        "name": "Ada",
        "notes": "none",
        "tone": None,
        "count": None,
    }


def test_numbers_given_as_strings_become_numbers_and_nul_bytes_are_removed():
    prepared = prepare_inputs(FORM, {"name": "A\x00da", "count": "2.5"})
    assert (prepared["name"], prepared["count"]) == ("Ada", 2.5)
    assert prepare_inputs(FORM, {"name": "Ada", "count": "7"})["count"] == 7


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "name is required in input form"),
        ({"name": 3}, "(type 'text-input') name in input form must be a string"),
        ({"name": "toolong"}, "name in input form must be less than 5 characters"),
        ({"name": "Ada", "tone": "cold"}, "tone in input form must be one of the following: ['dry', 'warm']"),
        ({"name": "Ada", "count": "many"}, "count in input form must be a valid number"),
    ],
)
def test_bad_values_raise_difys_messages(inputs, message):
    with pytest.raises(ValueError) as error:
        prepare_inputs(FORM, inputs)
    assert str(error.value) == message


def test_a_number_given_as_a_list_is_a_type_error_as_in_dify():
    with pytest.raises(TypeError):
        prepare_inputs(FORM, {"name": "Ada", "count": [1]})


@pytest.mark.parametrize(
    "form", [[{"file": {"variable": "f"}}], [{"select": {"variable": "s"}}], [{"text-input": {}}], ["x"]]
)
def test_forms_the_stand_in_cannot_serve_are_refused(form):
    with pytest.raises(ValueError):
        parse_form(form)
