"""The active colour changes only after the standby passed every check; rollback flips back without uploading.

Both changes are POSTed to a real local HTTP receiver with the dataset ids and the Bearer token from the
environment; the token never shows in the materialization. Seed 000 flipped its flag before syncing and had no
notification at all.
"""

from __future__ import annotations

import uuid

import dagster as dg

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


def test_rollback_is_refused_while_a_sync_run_is_in_flight(world):
    world.put("a.md", "a")
    assert world.run().success and world.run().success
    world.instance.add_run(
        dg.DagsterRun(job_name="sync_job", run_id=str(uuid.uuid4()), status=dg.DagsterRunStatus.STARTED)
    )
    result = world.rollback()
    assert not result.success and world.active() == "green"


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
    metadata = result.asset_materializations_for_node("active_colour")[0].metadata
    assert metadata["changed"].value is False
    assert "was not materialized in this run" in metadata["reason"].value


def test_a_failed_check_on_the_standby_keeps_the_active_colour(world):
    world.put("a.md", "a")
    assert world.run().success and world.active() == "blue"
    world.put("b.md", "b")
    world.standin.admin.set_indexing(error_names="^b")

    result = world.run()

    assert not result.success and world.active() == "blue"
    assert "active_colour" not in {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
