"""Promotion and rollback are pure transitions; the state is one JSON object with its history."""

from __future__ import annotations

import pytest

from difyops_dagster.sync.colour import ColourState, decide_run, promote, release, rollback

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


# --- what a run does (issue 13: a no-change run promotes nothing; a rollback holds) ---------------------------------


def synced_twice() -> ColourState:
    """blue was synced from listing d1, then green from d2 (green serves d2)."""
    return promote(promote(ColourState(), "blue", "ds-blue", "t1", "r1", "d1"), "green", "ds-green", "t2", "r2", "d2")


def test_the_first_run_writes_blue_and_says_no_colour_is_active_yet():
    decision = decide_run(ColourState(), "d1")
    assert decision.write == "blue" and "no colour is active yet" in decision.reason


def test_a_bucket_holding_what_the_active_colour_serves_writes_nothing():
    decision = decide_run(synced_twice(), "d2")
    assert decision.write is None and "nothing to sync" in decision.reason and "run r2" in decision.reason


def test_a_changed_bucket_writes_the_standby_and_push_all_always_does():
    assert decide_run(synced_twice(), "d3").write == "blue"
    assert decide_run(synced_twice(), "d2", push_all=True).write == "blue"


def test_a_rollback_holds_promotion_while_the_bucket_holds_what_the_rolled_back_colour_was_synced_from():
    rolled = rollback(synced_twice(), IDS, "t3", "r3", "bad answers")
    assert rolled.active == "blue" and rolled.served_digest == "d1"
    assert rolled.hold is not None and rolled.hold.colour == "green" and rolled.hold.source_digest == "d2"
    held = decide_run(rolled, "d2")
    assert held.write is None and "release_colour_hold_job" in held.reason
    assert decide_run(rolled, "d3").write == "green", "a changed bucket lifts the hold"
    assert decide_run(release(rolled), "d2").write == "green", "a released hold lets the same content promote"


def test_a_promotion_ends_the_hold_and_a_release_without_a_hold_is_refused():
    rolled = rollback(synced_twice(), IDS, "t3", "r3")
    assert promote(rolled, "green", "ds-green", "t4", "r4", "d3").hold is None
    with pytest.raises(ValueError, match="no promotion hold"):
        release(synced_twice())


def test_a_state_written_before_digests_were_kept_syncs_once_and_holds_until_released():
    legacy = ColourState.from_json(
        b'{"active": "green", "history": [{"colour": "blue", "dataset_id": "ds-blue",'
        b' "at": "t1", "reason": "promoted"}, {"colour": "green", "dataset_id": "ds-green",'
        b' "at": "t2", "reason": "promoted"}]}'
    )
    assert decide_run(legacy, "d2").write == "blue", "an unknown digest is a change"
    rolled = rollback(legacy, IDS, "t3")
    assert decide_run(rolled, "anything").write is None, "what green served is unknown: held until released"


def test_hold_and_digests_round_trip_through_json():
    rolled = rollback(synced_twice(), IDS, "t3", "r3")
    assert ColourState.from_json(rolled.to_json()) == rolled
