"""Promotion and rollback are pure transitions; the state is one JSON object with its history."""

from __future__ import annotations

import pytest

from difyops_dagster.sync.colour import ColourState, promote, rollback

IDS = {"blue": "ds-blue", "green": "ds-green"}


def test_a_fresh_state_has_no_active_colour_and_blue_on_standby():
    state = ColourState()
    assert state.active is None and state.standby == "blue" and state.previous is None


def test_promotion_records_history_and_flips_standby():
    state = promote(promote(ColourState(), "blue", "ds-blue", "t1"), "green", "ds-green", "t2")
    assert state.active == "green" and state.standby == "blue" and state.previous == "blue"
    assert [c.colour for c in state.history] == ["blue", "green"]


def test_rollback_returns_to_the_previous_colour():
    state = promote(promote(ColourState(), "blue", "ds-blue", "t1"), "green", "ds-green", "t2")
    rolled = rollback(state, IDS, "t3")
    assert rolled.active == "blue" and rolled.history[-1].reason == "rollback from green"


def test_rollback_without_history_is_refused():
    with pytest.raises(ValueError, match="nothing to roll back to"):
        rollback(promote(ColourState(), "blue", "ds-blue", "t1"), IDS, "t2")


def test_state_round_trips_through_json_and_rejects_unknown_colours():
    state = promote(ColourState(), "blue", "ds-blue", "t1")
    assert ColourState.from_json(state.to_json()) == state
    with pytest.raises(ValueError, match="unknown colour"):
        ColourState.from_json(b'{"active": "red", "history": []}')
