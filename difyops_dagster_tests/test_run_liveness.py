"""A run killed with SIGKILL stays STARTED and keeps its pool slot for good when no daemon watches it (issue 13:
"a killed run blocks every later sync forever"). `run_liveness` tells such a run from a live one by its processes
(the pids its own events carry, on the host its steps recorded) and releases it: marked failed, slots freed.

The runs here are real: a small job in a process of its own (liveness_job.py) holding the `dify_writes` slot,
killed for real, on a SQLite instance with the pool limited to 1, with the in-process and the multiprocess
executor (where the step runs in a child of the run's process, which may outlive it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import psutil
import pytest

from difyops_dagster.run_liveness import WORKER_TAG, death_reason, release_dead_runs
from difyops_dagster.sync.runs import SYNC_JOB, TARGET_TAG, pool_wait, sync_run_in_flight

ROOT = Path(__file__).resolve().parents[1]
POOL = "dify_writes"
START_S = 240  # a Python process importing Dagster: seconds idle, minutes on a loaded machine


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "dagster_home"
    path.mkdir()
    (path / "dagster.yaml").write_text("telemetry:\n  enabled: false\nconcurrency:\n  pools:\n    default_limit: 1\n")
    return path


def start_holder(home: Path, executor: str, tmp_path: Path) -> tuple[subprocess.Popen, str]:
    """A run of liveness_job holding the pool slot; returns its process and run id once it holds it."""
    ready = tmp_path / f"ready-{executor}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "difyops_dagster_tests.liveness_job", executor, str(ready)],
        cwd=ROOT,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + START_S
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the run did not start holding the pool"
        time.sleep(0.1)
    return proc, ready.read_text()


def kill_group(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)


def holders(instance: dg.DagsterInstance) -> set[str]:
    return instance.event_log_storage.get_concurrency_info(POOL).active_run_ids


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["in_process", "multiprocess"])
def test_a_live_run_is_left_alone_and_a_killed_one_is_marked_failed_and_its_slot_freed(home, tmp_path, executor):
    proc, run_id = start_holder(home, executor, tmp_path)
    said: list[str] = []
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert death_reason(instance, instance.get_run_by_id(run_id)) is None
            assert release_dead_runs(instance, [POOL], said.append) == [] and holders(instance) == {run_id}
            waits = pool_wait(instance, POOL, "another-run")
            assert waits is not None and run_id in waits and "Deployment > Concurrency > dify_writes" in waits
    finally:
        kill_group(proc)

    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_run_by_id(run_id)
        assert run.status == dg.DagsterRunStatus.STARTED and holders(instance) == {run_id}, "what the kill left"

        assert release_dead_runs(instance, [POOL], said.append) == [run_id]

        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE and holders(instance) == set()
        logged = " ".join(e.message for e in instance.all_logs(run_id))
        assert "difyops: marked failed because none of its processes" in logged
        assert said and run_id in said[0] and "pool slots are free" in said[0]
        assert pool_wait(instance, POOL, "another-run") is None


@pytest.mark.slow
def test_a_run_whose_process_died_while_its_step_process_still_writes_is_alive(home, tmp_path):
    proc, run_id = start_holder(home, "multiprocess", tmp_path)
    try:
        step = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)  # the orchestrator only; its step process goes on
        proc.wait(30)
        assert any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in step)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert death_reason(instance, instance.get_run_by_id(run_id)) is None
            assert release_dead_runs(instance, [POOL], print) == []
    finally:
        kill_group(proc)


def test_a_run_on_another_host_is_never_judged_here(home, tmp_path):
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = dg.DagsterRun(job_name="j", run_id="r-elsewhere", status=dg.DagsterRunStatus.STARTED,
                            tags={WORKER_TAG: "another-host boot 1"})  # fmt: skip
        instance.add_run(run)
        assert death_reason(instance, run) is None


def test_a_sync_that_never_reached_its_first_step_is_released_after_the_grace_time(home):
    """A sync tags its run with its host in its first step; one killed before that cannot be judged by pid, so a
    STARTED one older than five minutes without the tag is released (sync/runs.py)."""
    target = "blue-id+green-id"
    with dg.DagsterInstance.from_config(str(home)) as instance:
        fresh = dg.DagsterRun(job_name=SYNC_JOB, run_id="r-fresh", status=dg.DagsterRunStatus.STARTED,
                              tags={TARGET_TAG: target})  # fmt: skip
        stale = dg.DagsterRun(job_name=SYNC_JOB, run_id="r-stale", status=dg.DagsterRunStatus.STARTED,
                              tags={TARGET_TAG: target})  # fmt: skip
        instance.add_run(fresh)
        instance.add_run(stale)
        _run_start(instance, "r-stale", time.time() - 400)

        assert sync_run_in_flight(instance, target, print) == "r-fresh"

        assert instance.get_run_by_id("r-stale").status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id("r-fresh").status == dg.DagsterRunStatus.STARTED


def _run_start(instance: dg.DagsterInstance, run_id: str, at: float) -> None:
    from dagster._core.events import DagsterEvent
    from dagster._core.events.log import EventLogEntry

    event = DagsterEvent(dg.DagsterEventType.RUN_START.value, SYNC_JOB, pid=os.getpid())
    instance.store_event(EventLogEntry(None, "DEBUG", "", run_id, at, None, SYNC_JOB, event))
