"""`bucket_changed_sensor` and `daily_sync_schedule`: additions, changes and deletions each request one run, an
unchanged bucket none, and neither trigger starts a second sync while one is in flight.

The cursor is walked one tick at a time with a throwaway instance, as a restarted daemon would see it.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from difyops_dagster.sync.runs import TARGET_TAG, sync_target


def sync_run(world, status: dg.DagsterRunStatus) -> str:
    """A run of this world's `sync_job` in `status` (tagged as every real one is)."""
    run_id = str(uuid.uuid4())
    tags = {TARGET_TAG: sync_target({"blue": world.blue, "green": world.green})}
    world.instance.add_run(dg.DagsterRun(job_name="sync_job", run_id=run_id, status=status, tags=tags))
    return run_id


def tick(world, cursor: str | None, **sync):
    defs = world.defs(**sync)
    sensor = defs.resolve_sensor_def("bucket_changed_sensor")
    resources = {name: defs.resources[name] for name in ("s3", "bucket_notifications")}
    context = dg.build_sensor_context(instance=world.instance, cursor=cursor, resources=resources)
    result = sensor(context)
    if isinstance(result, dg.SkipReason):
        return result, cursor
    return result, result.cursor or cursor


def test_each_kind_of_change_requests_a_run_and_no_change_skips(world):
    world.put("a.md", "a")
    first, cursor = tick(world, None)
    assert len(first.run_requests) == 1

    unchanged, cursor = tick(world, cursor)
    assert isinstance(unchanged, dg.SkipReason) and "unchanged" in unchanged.skip_message

    changes = [
        lambda: world.put("b.md", "b"),  # addition
        lambda: world.put("a.md", "A"),  # change, same size
        lambda: world.delete("b.md"),  # deletion
        lambda: world.put("a.md", "a"),  # back to the very first state: still a change, still a run
    ]
    keys = set()
    for change in changes:
        change()
        result, cursor = tick(world, cursor)
        (request,) = result.run_requests
        keys.add(request.run_key)
        assert isinstance(tick(world, cursor)[0], dg.SkipReason)
    assert len(keys) == 4
    assert json.loads(cursor)["count"] == 1 and json.loads(cursor)["seq"] == 5


def test_rejected_objects_do_not_trigger_a_sync(world):
    world.put("a.md", "a")
    _, cursor = tick(world, None)
    world.put("ignored.exe", "x")
    world.put("empty.md", "")
    assert isinstance(tick(world, cursor)[0], dg.SkipReason)


def test_the_sensor_waits_while_a_sync_run_is_in_flight_and_keeps_its_cursor(world):
    world.put("a.md", "a")
    _, cursor = tick(world, None)
    world.put("b.md", "b")
    run_id = sync_run(world, dg.DagsterRunStatus.STARTED)

    waiting, kept = tick(world, cursor)

    assert isinstance(waiting, dg.SkipReason) and run_id in waiting.skip_message and kept == cursor
    world.instance.report_run_canceled(world.instance.get_run_by_id(run_id))
    assert len(tick(world, cursor)[0].run_requests) == 1


def test_the_daily_schedule_runs_at_15_00_in_the_configured_timezone(world):
    defs = world.defs(schedule_timezone="Asia/Shanghai")
    schedule = defs.resolve_schedule_def("daily_sync_schedule")
    assert schedule.cron_schedule == "0 15 * * *" and schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.job_name == "sync_job"
    when = datetime(2026, 11, 23, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    (request,) = schedule.evaluate_tick(
        dg.build_schedule_context(instance=world.instance, scheduled_execution_time=when)
    ).run_requests
    assert request.run_key == f"daily-{when.isoformat()}"


def test_the_schedule_skips_while_a_sync_run_is_in_flight(world):
    defs = world.defs(schedule_cron="30 9 * * 1-5")
    sync_run(world, dg.DagsterRunStatus.STARTING)
    schedule = defs.resolve_schedule_def("daily_sync_schedule")
    result = schedule.evaluate_tick(dg.build_schedule_context(instance=world.instance))
    assert not result.run_requests and "in flight" in result.skip_message
    assert schedule.cron_schedule == "30 9 * * 1-5"
