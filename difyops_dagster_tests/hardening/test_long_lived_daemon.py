"""Syncs through the daemon on one long-lived instance (issue 13): `dagster dev` (webserver, daemon, code server) on
the repository's dagster.yaml, runs submitted to its queue as the UI submits them (GraphQL).

- A sync whose run worker is killed with SIGKILL while it writes: the code server sees its process die and marks
  the run failed, the daemon retries it once (`run_retries`, the worker crashed), and the retry completes at
  once: its first step frees the slot the dead run held (the daemon itself would after
  `run_monitoring.free_slots_after_run_end_seconds`). Before, the retry stayed blocked on `dify_writes`.
- Two or three syncs submitted together: the queue starts one (`tag_concurrency_limits` on `difyops/sync_target`)
  and keeps the others queued until it ended; they then find the bucket served and write nothing. One promotion,
  each change written once.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator

import dagster as dg
import pytest
import requests
from dagster_graphql import DagsterGraphQLClient

from dify_standin.processes import free_port
from difyops_dagster_tests.deploy.dagster_processes import DagsterProcess, dagster_command, wait_for
from difyops_dagster_tests.hardening.crashes import SYNC_CALLS, calls_seen, count_calls
from difyops_dagster_tests.hardening.long_lived import (
    ROOT,
    RUN_WAIT_S,
    LongLivedSync,
    assert_landed_once,
    before_together,
    kill_tree,
    run_span,
    run_worker_pid,
    slot_holders,
    sync_runs,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(3600),
    pytest.mark.xdist_group("long-lived-daemon"),
]
KILL_LATENCY_MS = 30
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


class Daemon:
    """`dagster dev` on the long-lived instance, and a GraphQL client to submit runs to its queue."""

    def __init__(self, life: LongLivedSync):
        self.life = life
        self.port = free_port()
        argv = dagster_command(
            "dagster", "dev", "-w", str(ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(self.port)
        )
        self.process = DagsterProcess("long-lived-dev", argv, {**os.environ, **life.env()}, ROOT).start()
        self.process.wait_ready(self._answers, RUN_WAIT_S)
        self.client = DagsterGraphQLClient("127.0.0.1", port_number=self.port)

    def _answers(self) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/server_info", timeout=2).ok
        except requests.RequestException:
            return False

    def submit(self) -> str:
        return self.client.submit_job_execution("sync_job")

    def finished(self, run_id: str) -> dg.DagsterRun:
        def done():
            with self.life.instance() as instance:
                run = instance.get_run_by_id(run_id)
                return run if run is not None and run.status in FINISHED else None

        return wait_for(done, RUN_WAIT_S, f"run {run_id} to finish", interval=1)

    def stop(self) -> None:
        self.process.stop(60)


@pytest.fixture(scope="module")
def daemon(life) -> Iterator[Daemon]:
    """Up, with the sensor's first look at the bucket synced (it requests one run when it first ticks)."""
    running = Daemon(life)
    try:

        def first_sync():
            with life.instance() as instance:
                runs = sync_runs(instance)
                return runs[0].run_id if runs else None

        first = wait_for(first_sync, RUN_WAIT_S, "the bucket sensor's first run", interval=2)
        assert running.finished(first).status == dg.DagsterRunStatus.SUCCESS
        yield running
    finally:
        running.stop()


@pytest.mark.scoreboard("crashes")
def test_a_daemon_run_killed_while_writing_is_retried_and_the_retry_completes(life, daemon, quiet, record_property):
    before = life.world.state()
    life.change(16)
    admin = life.world.standin.admin
    count_calls(admin, SYNC_CALLS, KILL_LATENCY_MS)
    run_id = daemon.submit()
    wait_for(lambda: calls_seen(admin, SYNC_CALLS)["upload"] >= 4, RUN_WAIT_S, "the run's 4th upload", interval=0.01)
    with life.instance() as instance:
        pid = run_worker_pid(instance, run_id)
    assert pid is not None
    kill_tree(pid)
    killed_at = time.time()
    admin.clear_faults()
    record_property("kills", 1)

    def retry_of_it():
        with life.instance() as instance:
            retries = instance.get_runs(dg.RunsFilter(tags={"dagster/parent_run_id": run_id}))
            return retries[0].run_id if retries else None

    retry = wait_for(retry_of_it, RUN_WAIT_S, "the daemon's retry of the killed run", interval=1)
    assert daemon.finished(retry).status == dg.DagsterRunStatus.SUCCESS
    with life.instance() as instance:
        record_property("retry_done_after_kill_s", round(run_span(instance, retry)[1] - killed_at, 1))
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE and slot_holders(instance) == set()
    assert life.world.active() == before.standby and life.problems(before.standby) == []
    record_property("repaired", 1)


@pytest.mark.scoreboard("concurrency")
@pytest.mark.parametrize("submissions", [2, 3])
def test_syncs_submitted_together_to_the_queue_promote_once_and_write_each_change_once(
    life, daemon, quiet, hook, submissions, record_property
):
    before = before_together(life, hook, life.change(6))

    run_ids = [daemon.submit() for _ in range(submissions)]

    runs = [daemon.finished(run_id) for run_id in run_ids]
    assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * submissions
    spans = assert_landed_once(life, before, hook, run_ids)
    ordered = sorted(spans.values())
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ordered)), "the queue ran them one at a time"
    record_property("runs", submissions)
