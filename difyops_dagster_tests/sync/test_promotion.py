"""The active colour changes only after the standby passed every check; rollback flips back without uploading.

Both changes are POSTed to a real local HTTP receiver with the dataset ids and the Bearer token from the
environment; the token never shows in the materialization. Seed 000 flipped its flag before syncing and had no
notification at all. A rollback holds promotion (seed 000's "switch back, fix the broken colour, then switch
again"): the next runs promote nothing until the hold is released or the bucket changes (issue 13).
"""

from __future__ import annotations

import uuid

import dagster as dg
import requests

from difyops_dagster.sync.runs import TARGET_TAG, sync_target
from difyops_dagster_tests.receivers import WebhookReceiver

TOKEN_VAR = "DIFYOPS_TEST_WEBHOOK_TOKEN"
TOKEN = "hook-token-s3cr3t"


def test_promotion_and_rollback_notify_the_webhook_with_the_dataset_ids(world, monkeypatch):
    monkeypatch.setenv(TOKEN_VAR, TOKEN)
    world.env[TOKEN_VAR] = TOKEN
    world.put("a.md", "a")
    with WebhookReceiver() as hook:
        world.overrides = {"webhook_url": hook.url, "webhook_token": {"env": TOKEN_VAR}}
        first = world.run()
        world.put("b.md", "b")
        assert first.success and world.run().success and world.active() == "green"
        world.standin.admin.clear_request_log()

        result = world.rollback(reason="bad answers after the update")

        assert result.success and world.active() == "blue"
        assert world.writes() == []  # nothing re-uploaded
        events = hook.json_bodies()
        assert [e["event"] for e in events] == ["promoted", "promoted", "rolled_back"]
        assert events[-1]["active"] == {"colour": "blue", "dataset_id": world.blue}
        assert events[-1]["previous"] == {"colour": "green", "dataset_id": world.green}
        assert events[0]["previous"] == {"colour": None, "dataset_id": None}
        assert {r["headers"]["Authorization"] for r in hook.requests} == {f"Bearer {TOKEN}"}
    assert world.state().history[-1].reason == "rollback from green: bad answers after the update"
    colour = first.asset_materializations_for_node("active_colour")[0]
    assert TOKEN not in str(colour.metadata) and colour.metadata["webhook"].value == "delivered: HTTP 200"


def test_an_unreachable_webhook_warns_but_the_promotion_stands(world):
    world.put("a.md", "a")
    result = world.run(webhook_url="http://127.0.0.1:9/hook")
    assert result.success and world.active() == "blue"
    (check,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "webhook_delivered"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN


def test_rollback_without_an_earlier_colour_is_refused(world):
    world.put("a.md", "a")
    assert world.run().success
    result = world.rollback()
    assert not result.success and world.active() == "blue"


def two_colours(world) -> None:
    """blue synced from {a}, then green from {a, b}: green serves."""
    world.put("a.md", "a")
    assert world.run().success
    world.put("b.md", "b")
    assert world.run().success and world.active() == "green"


def test_rollback_is_refused_while_a_sync_run_is_in_flight(world):
    two_colours(world)
    tags = {TARGET_TAG: sync_target({"blue": world.blue, "green": world.green})}
    world.instance.add_run(
        dg.DagsterRun(job_name="sync_job", run_id=str(uuid.uuid4()), status=dg.DagsterRunStatus.STARTED, tags=tags)
    )
    result = world.rollback()
    assert not result.success and world.active() == "green"


def test_a_rollback_to_a_colour_that_no_longer_holds_what_it_served_is_refused(world):
    """A sync killed while writing the standby leaves it half-written; rolling back to it would serve that."""
    two_colours(world)
    (doc,) = [d for d in world.documents(world.blue) if d["metadata"]["source_key"] == "a.md"]
    headers = {"Authorization": f"Bearer {world.standin.dataset_key}"}
    requests.delete(f"{world.standin.api_url}/datasets/{world.blue}/documents/{doc['id']}", headers=headers, timeout=30)

    result = world.rollback()

    assert not result.success and world.active() == "green" and world.state().hold is None
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "blue no longer holds what it served" in failure.step_failure_data.error.message


def test_a_rollback_holds_promotion_until_the_bucket_changes(world):
    two_colours(world)
    assert world.rollback(reason="green answers badly").success and world.active() == "blue"
    world.standin.admin.clear_request_log()

    held = world.run()

    assert held.success and world.active() == "blue", "the colour just rolled away from is not promoted again"
    assert world.writes() == []
    reason = held.asset_materializations_for_node("s3_objects")[0].metadata["this_run"].value
    assert "promotion is held" in reason and "release_colour_hold_job" in reason
    colour = world.instance.get_latest_materialization_event(dg.AssetKey("active_colour")).asset_materialization
    assert "release_colour_hold_job" in colour.metadata["hold"].value, "the hold and its release show on the asset"
    world.put("b.md", "b, fixed")

    fixed = world.run()

    assert fixed.success and world.active() == "green" and world.state().hold is None
    assert world.keys_in(world.green) == ["a.md", "b.md"]


def test_releasing_the_hold_lets_the_next_run_promote_the_same_content_again(world):
    two_colours(world)
    assert world.rollback().success and world.active() == "blue"
    release = world.defs().resolve_job_def("release_colour_hold_job")

    released = release.execute_in_process(instance=world.instance, raise_on_error=False)

    assert released.success and world.state().hold is None and world.active() == "blue"
    assert world.run().success and world.active() == "green"
    again = release.execute_in_process(instance=world.instance, raise_on_error=False)
    assert not again.success, "no hold to release: refused, saying so"


def test_materializing_only_active_colour_never_promotes_an_unchecked_colour(world):
    world.put("a.md", "a")
    assert world.run().success and world.active() == "blue"
    world.put("b.md", "b")
    defs = world.defs()
    job = defs.resolve_implicit_global_asset_job_def()

    result = job.execute_in_process(
        instance=world.instance, asset_selection=[dg.AssetKey("active_colour")], raise_on_error=False
    )

    assert result.success and world.active() == "blue"
    assert result.get_asset_materialization_events() == [], "nothing changed, so nothing is materialized"
    said = [e.user_message for e in world.instance.all_logs(result.run_id) if "nothing promoted" in e.user_message]
    assert said and "synced_dataset_green was not materialized in this run" in said[0]


def test_a_failed_check_on_the_standby_keeps_the_active_colour_and_the_failure_says_why(world):
    world.put("a.md", "a")
    assert world.run().success and world.active() == "blue"
    world.put("b.md", "b")
    world.standin.admin.set_indexing(error_names="^b")

    result = world.run()

    assert not result.success and world.active() == "blue"
    assert "active_colour" not in {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.message
    assert failure.step_key == "synced_dataset_green" and "no_error_documents: 1 problem(s), e.g. b.md" in message
