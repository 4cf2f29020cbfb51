"""Syncs from the command line on one long-lived instance (issue 13): a killed run never blocks the next one, a
rollback right after a crash is not refused for the dead run, and syncs launched together make one promotion.

Without a daemon nothing marks a killed run finished: before, it stayed STARTED with its `dify_writes` slot, and
the next `sync_job` waited for the slot forever ("Step blocked by limit for pool dify_writes"), the sensor and
the rollback saw a sync in flight forever. Here the next run's first step finds the dead run (its processes gone
from this host), marks it failed and frees its slot at once: the release takes no longer than the next run takes
to start. Two or three `dg launch --job sync_job` at once: the first lists, writes and promotes; the others wait
for it (their log says so), then find the bucket served and write nothing.

Every run is a real process on the same DAGSTER_HOME (the repository's dagster.yaml): killed runs are forked by
crash_runner.py and killed with SIGKILL to their process group; the concurrent ones are `dg launch` processes.
"""

from __future__ import annotations

import time

import dagster as dg
import pytest

from difyops_dagster_tests.hardening.crashes import SYNC_CALLS, RunServer, calls_seen, count_calls, kill_when
from difyops_dagster_tests.hardening.long_lived import (
    RUN_WAIT_S,
    LongLivedSync,
    assert_landed_once,
    before_together,
    run_log,
    slot_holders,
    sync_runs,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("long-lived-cli"),
]
KILL_LATENCY_MS = 30


def sync_cli(life: LongLivedSync, server: RunServer, name: str):
    return server.launch(life.env(), ["job=sync_job"], life.dagster_home.parent / f"{name}.log")


def killed_sync(life: LongLivedSync, server: RunServer, name: str, kind: str, point: int) -> str:
    """A sync launched from the command line and SIGKILLed once the stand-in saw `point` calls of `kind`."""
    admin = life.world.standin.admin
    count_calls(admin, SYNC_CALLS, KILL_LATENCY_MS)
    run = sync_cli(life, server, name)
    assert kill_when(run, lambda: calls_seen(admin, SYNC_CALLS)[kind] >= point), f"ended first:\n{run.tail()}"
    admin.clear_faults()
    with life.instance() as instance:
        (dead,) = [r for r in sync_runs(instance) if r.status == dg.DagsterRunStatus.STARTED]
        return dead.run_id


def ensure_synced(life: LongLivedSync, server: RunServer) -> None:
    """A first sync, so a colour serves and the next one has a standby to write."""
    if life.world.active() is None:
        assert sync_cli(life, server, "first").wait(RUN_WAIT_S) == 0


@pytest.mark.scoreboard("crashes")
def test_a_sync_killed_while_writing_is_released_by_the_next_cli_run_on_the_same_instance(
    life, run_server, quiet, record_property
):
    ensure_synced(life, run_server)
    before = life.world.state()
    life.change(16)
    dead = killed_sync(life, run_server, "killed-in-writes", "upload", 4)
    with life.instance() as instance:
        assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.STARTED
        assert dead in slot_holders(instance), "the dead run still holds dify_writes: what blocked every later sync"
    record_property("kills", 1)

    started = time.monotonic()
    assert sync_cli(life, run_server, "after-the-kill").wait(RUN_WAIT_S) == 0, "the next run must complete"
    record_property("next_run_s", round(time.monotonic() - started, 1))

    with life.instance() as instance:
        run = instance.get_run_by_id(dead)
        assert run.status == dg.DagsterRunStatus.FAILURE and slot_holders(instance) == set()
        assert "difyops: marked failed because none of its processes" in run_log(instance, dead)
    assert life.world.active() == before.standby and life.problems(before.standby) == []
    record_property("repaired", 1)


@pytest.mark.scoreboard("crashes")
def test_a_rollback_right_after_a_killed_sync_is_not_refused_for_the_dead_run(life, run_server, quiet):
    ensure_synced(life, run_server)
    life.change(4)
    assert sync_cli(life, run_server, "second-colour").wait(RUN_WAIT_S) == 0
    serving = life.world.active()
    life.change(4)
    dead = killed_sync(life, run_server, "killed-listing", "list", 1)  # before it wrote anything

    rollback = run_server.launch(life.env(), ["job=rollback_colour_job"], life.dagster_home.parent / "rollback.log")

    assert rollback.wait(RUN_WAIT_S) == 0, rollback.tail()
    assert life.world.active() != serving and life.world.state().hold is not None
    with life.instance() as instance:
        assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE
    assert sync_cli(life, run_server, "after-rollback").wait(RUN_WAIT_S) == 0
    assert life.world.active() == serving and life.problems(serving) == [], "the changed bucket lifts the hold"


@pytest.mark.scoreboard("concurrency")
@pytest.mark.parametrize("launches", [2, 3])
def test_syncs_launched_together_from_the_command_line_promote_once_and_write_each_change_once(
    life, run_server, quiet, hook, launches, record_property
):
    ensure_synced(life, run_server)
    before = before_together(life, hook, life.change(6))
    with life.instance() as instance:
        known = {r.run_id for r in sync_runs(instance)}
    life.world.standin.admin.set_latency(100)  # the first sync lasts a while, so the others meet it
    logs = [life.dagster_home.parent / f"together-{launches}-{i}.log" for i in range(launches)]

    procs = [life.dg_launch("sync_job", log) for log in logs]

    codes = [proc.wait(RUN_WAIT_S) for proc in procs]
    assert codes == [0] * launches, [log.read_text(errors="replace")[-2000:] for log in logs]
    with life.instance() as instance:
        run_ids = [r.run_id for r in sync_runs(instance) if r.run_id not in known]
    assert len(run_ids) == launches
    assert_landed_once(life, before, hook, run_ids)
    record_property("runs", launches)
