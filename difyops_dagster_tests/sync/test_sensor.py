"""`bucket_changed_sensor`: additions, changes and deletions each request one run; an unchanged bucket none.

The cursor is walked one tick at a time with a throwaway instance, as a restarted daemon would see it.
"""

from __future__ import annotations

import dagster as dg

from difyops_dagster.definitions import build_definitions


def tick(world, cursor: str | None):
    defs = build_definitions(world.settings())
    sensor = defs.resolve_sensor_def("bucket_changed_sensor")
    context = dg.build_sensor_context(instance=world.instance, cursor=cursor, resources={"s3": defs.resources["s3"]})
    result = sensor(context)
    if isinstance(result, dg.SkipReason):
        return result, cursor
    return result, result.cursor


def test_each_kind_of_change_requests_a_run_and_no_change_skips(world):
    world.put("a.md", "a")
    first, cursor = tick(world, None)
    assert len(first.run_requests) == 1

    unchanged, cursor = tick(world, cursor)
    assert isinstance(unchanged, dg.SkipReason) and "unchanged" in unchanged.skip_message

    changes = [
        lambda: world.put("b.md", "b"),  # addition
        lambda: world.put("a.md", "A"),  # change, same size
        lambda: world.s3.delete_object(Bucket=world.bucket, Key="b.md"),  # deletion
    ]
    keys = set()
    for change in changes:
        change()
        result, cursor = tick(world, cursor)
        (request,) = result.run_requests
        keys.add(request.run_key)
        assert isinstance(tick(world, cursor)[0], dg.SkipReason)
    assert len(keys) == 3


def test_rejected_objects_do_not_trigger_a_sync(world):
    world.put("a.md", "a")
    _, cursor = tick(world, None)
    world.put("ignored.exe", "x")
    assert isinstance(tick(world, cursor)[0], dg.SkipReason)


def test_the_daily_schedule_runs_at_15_00_in_the_configured_timezone(world):
    defs = build_definitions(world.settings(schedule_timezone="Asia/Shanghai"))
    schedule = defs.resolve_schedule_def("daily_sync_schedule")
    assert schedule.cron_schedule == "0 15 * * *" and schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.job_name == "sync_job"
