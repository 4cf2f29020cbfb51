"""What starts a workflow app besides a person: its schedule, which skips a tick while the app's previous run
is still queued or going (so a slow workflow never piles up runs), and the `run_after` sensor, which starts the
app when an upstream asset (the sync's `active_colour`) materializes with a change and shows that dependency in
the lineage graph.
"""

from __future__ import annotations

import uuid

import dagster as dg
import pytest

from difyops_dagster.config_model import SettingsError
from difyops_dagster_tests.workflows.conftest import definitions, materialize, with_app


def schedule_tick(data: dict, instance: dg.DagsterInstance):
    schedule = definitions(data).resolve_schedule_def("workflow_summarize_schedule")
    return schedule.evaluate_tick(dg.build_schedule_context(instance=instance))


def test_the_schedule_requests_a_run_when_the_app_is_idle(workflow_apps, instance):
    data = with_app(workflow_apps, "summarize")
    (request,) = schedule_tick(data, instance).run_requests
    assert request.tags["difyops/workflow_app"] == "summarize"
    schedule = definitions(data).resolve_schedule_def("workflow_summarize_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_schedule_skips_while_a_run_of_the_app_is_still_going(workflow_apps, instance):
    defs = definitions(workflow_apps)
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection={dg.AssetKey("workflow_run_summarize")}
    )
    going = instance.create_run_for_job(job, run_config={}, status=dg.DagsterRunStatus.STARTED)
    tick = schedule_tick(workflow_apps, instance)
    assert tick.run_requests == [] and going.run_id in tick.skip_message
    instance.report_run_canceled(going)
    (request,) = schedule_tick(workflow_apps, instance).run_requests
    assert request is not None


def test_a_finished_run_does_not_block_the_next_tick(workflow_apps, instance):
    assert materialize(workflow_apps, "summarize", {"text": "t"}, instance=instance).success
    assert len(schedule_tick(workflow_apps, instance).run_requests) == 1


def follower_settings(workflow_apps: dict) -> dict:
    return with_app(workflow_apps, "summarize", run_after=["active_colour"], inputs={"text": "kb changed"})


def sensor_tick(data: dict, instance: dg.DagsterInstance, cursor: str | None = None):
    defs = definitions(data)
    sensor = defs.resolve_sensor_def("workflows_after_active_colour_sensor")
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    return sensor.evaluate_tick(context)


def test_the_app_depends_on_the_asset_it_runs_after_in_the_lineage(workflow_apps):
    graph = definitions(follower_settings(workflow_apps)).resolve_asset_graph()
    assert graph.get(dg.AssetKey("workflow_run_summarize")).parent_keys == {dg.AssetKey("active_colour")}
    assert graph.get(dg.AssetKey("workflow_run_slow")).parent_keys == set()


def test_a_promotion_starts_the_app_and_a_no_change_sync_does_not(workflow_apps, instance):
    data = follower_settings(workflow_apps)
    instance.report_runless_asset_event(dg.AssetMaterialization("active_colour", metadata={"changed": False}))
    skipped = sensor_tick(data, instance)
    assert skipped.run_requests == [] and "without a change" in skipped.skip_message
    instance.report_runless_asset_event(dg.AssetMaterialization("active_colour", metadata={"changed": True}))
    started = sensor_tick(data, instance, skipped.cursor)
    (request,) = started.run_requests
    sensor = definitions(data).resolve_sensor_def("workflows_after_active_colour_sensor")
    assert sensor.job_name == "workflows_after_active_colour_job"
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert request.run_key.startswith("active_colour:")
    assert sensor_tick(data, instance, started.cursor).run_requests == []  # the cursor moved past it


def test_the_started_run_uses_the_apps_default_inputs(workflow_apps, standin, instance):
    data = follower_settings(workflow_apps)
    job = definitions(data).resolve_job_def("workflows_after_active_colour_job")
    assert job.execute_in_process(instance=instance).success
    assert standin.admin.state()["runs"][0]["inputs"] == {"text": "kb changed"}


def with_handbook_sync(data: dict) -> dict:
    """The settings plus one named knowledge base, `handbook`: its colour is `handbook/active_colour`."""
    handbook = {"name": "handbook", "bucket": "kb", "blue_dataset_id": str(uuid.uuid4()),
                "green_dataset_id": str(uuid.uuid4())}  # fmt: skip
    return {**data, "dify": {**data["dify"], "dataset_api_key": {"env": "SUMMARIZE_KEY"}}, "syncs": [handbook]}


def test_an_app_runs_after_a_named_sync_by_its_prefixed_key(workflow_apps):
    data = with_app(with_handbook_sync(workflow_apps), "summarize", run_after=["handbook/active_colour"])
    defs = definitions(data)
    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey("workflow_run_summarize")).parent_keys == {dg.AssetKey(["handbook", "active_colour"])}
    assert defs.resolve_sensor_def("workflows_after_handbook_active_colour_sensor") is not None


def test_a_bare_active_colour_where_only_a_named_sync_has_one_is_refused_naming_the_key_meant(workflow_apps):
    data = with_app(with_handbook_sync(workflow_apps), "summarize", run_after=["active_colour"])
    with pytest.raises(SettingsError, match=r"workflows\.apps\.0\.run_after: .*did you mean handbook/active_colour"):
        definitions(data)
