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
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import requests
from dagster_graphql import DagsterGraphQLClient

from dify_standin.processes import free_port
from difyops_dagster_tests.hardening.crashes import SYNC_CALLS, calls_seen, count_calls
from difyops_dagster_tests.hardening.long_lived import (
    ROOT,
    RUN_WAIT_S,
    LongLivedSync,
    assert_one_promoted_and_the_others_said_why,
    kill_tree,
    run_log,
    run_span,
    run_worker_pid,
    slot_holders,
    sync_runs,
    wait_for,
)
from difyops_dagster_tests.receivers import WebhookReceiver
from difyops_dagster_tests.sync.conftest import open_world

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
        self.log = log = open(life.dagster_home.parent / "dagster-dev.log", "ab")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster")), "dev", "-w", str(ROOT / "workspace.yaml"),
             "-h", "127.0.0.1", "-p", str(self.port)],
            cwd=ROOT,
            env={**os.environ, **life.env()},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        wait_for(self._ready, RUN_WAIT_S, "dagster dev to answer /server_info", interval=1)
        self.client = DagsterGraphQLClient("127.0.0.1", port_number=self.port)

    def _ready(self) -> bool:
        assert self.proc.poll() is None, "dagster dev exited"
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
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)
        self.log.close()


@pytest.fixture(scope="module")
def environ() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def life(standin_server, s3_server, environ, tmp_path_factory, hook) -> Iterator[LongLivedSync]:
    standin_server.admin.reset()
    standin_server.admin.set_indexing(seconds=0.1)
    home = tmp_path_factory.mktemp("long-lived-daemon")
    s3 = s3_server.client()
    bucket = f"life-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    with open_world(standin_server, s3, bucket, environ, home, endpoint_url=s3_server.endpoint_url) as world:
        yield LongLivedSync(world, home, hook.url)


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


@pytest.fixture
def quiet(life) -> Iterator[None]:
    admin = life.world.standin.admin
    admin.clear_faults()
    admin.clear_request_log()
    yield
    admin.clear_faults()
    admin.set_latency(0)


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
    changed = life.change(6)
    before = life.world.state()
    needed = life.planned_writes(before.standby)
    assert needed >= len(changed)
    hooks_before = len(hook.json_bodies())
    life.world.standin.admin.clear_request_log()

    run_ids = [daemon.submit() for _ in range(submissions)]

    runs = [daemon.finished(run_id) for run_id in run_ids]
    assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * submissions
    after = life.world.state()
    assert len(after.history) == len(before.history) + 1 and after.active == before.standby, "exactly one promotion"
    assert life.problems(after.active) == []
    assert life.document_writes() == needed, "each change written once"
    assert len(hook.json_bodies()) == hooks_before + 1, "one promotion announced"
    with life.instance() as instance:
        logs = {run_id: run_log(instance, run_id) for run_id in run_ids}
        spans = {run_id: run_span(instance, run_id) for run_id in run_ids}
    ordered = sorted(spans.values())
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ordered)), "the queue ran them one at a time"
    assert_one_promoted_and_the_others_said_why(logs, spans)
    record_property("runs", submissions)
