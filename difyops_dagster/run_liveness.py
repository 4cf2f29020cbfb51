"""Runs whose process died without telling Dagster: telling them apart from live ones, and releasing them.

Why this exists. A run killed with SIGKILL (OOM killer, a lost container, `kill -9`) stays STARTED in the
instance and keeps the pool slots its steps claimed. Dagster cures the slots only once the run is marked
finished (`run_monitoring.free_slots_after_run_end_seconds`, a daemon job), and marks a dead run finished only
where something watches its worker: the run launcher's health check (k8s, docker launchers), or the code server
that started it seeing its subprocess die. A run started from the command line (`dg launch`, CI) or by a
`dagster dev` that was killed along with it has neither: it stays STARTED for good, every later sync waits for
its `dify_writes` slot, and the sensor, the schedule and the rollback see a sync "in flight" forever.

How a run is judged. Every step of ours that takes a pool (and the sync's first step) tags its run with where
it runs (`difyops/worker`: host name and boot id). The processes come from the run's own event log: each
Dagster event carries the pid of the process that emitted it (the run's orchestrator for RUN_START, the step's
process for STEP_START). A run tagged with *this* host, none of whose processes is still alive with a start
time before the event it emitted (so a reused pid does not count), is dead: it is marked failed with the reason
(`DagsterInstance.report_run_failed`) and its slots are freed (`free_concurrency_slots_for_run`), at once.
Runs of another host are never judged here (their own daemon or launcher does); a finished run still holding
slots is freed here only when it ran on this host, otherwise by the daemon after
`free_slots_after_run_end_seconds`.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

import dagster as dg
import psutil

WORKER_TAG = "difyops/worker"
LIVE_STATUSES = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
# A process's recorded start time is rounded; an event it emitted can carry a timestamp a little before it.
START_SLACK_S = 2.0

Log = Callable[[str], object]


BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


@cache
def worker_identity() -> str:
    """This machine, as a run tag: host name plus this boot (a rebooted host reuses pids).

    The boot is Linux's boot id, fixed from boot to shutdown. The boot *time* is not: the kernel derives it from
    the wall clock minus the uptime, so a clock step (NTP, a VM restored from a snapshot) moves it, and a run
    tagged before the step would no longer count as this host's. Elsewhere (macOS) the boot time serves.
    """
    try:
        boot = BOOT_ID.read_text().strip()
    except OSError:
        boot = str(int(psutil.boot_time()))
    return f"{socket.gethostname()} boot {boot}"


def record_worker(context: dg.OpExecutionContext) -> None:
    """Tag the run with this host, once; called first by every step that takes one of our pools."""
    if context.run.tags.get(WORKER_TAG) != worker_identity():
        context.instance.add_run_tags(context.run.run_id, {WORKER_TAG: worker_identity()})


def _processes(instance: dg.DagsterInstance, run_id: str) -> dict[int, float]:
    """pid -> when it first spoke, for the run's orchestrator and each of its step processes."""
    kinds = {dg.DagsterEventType.RUN_START, dg.DagsterEventType.STEP_START}
    seen: dict[int, float] = {}
    for record in instance.get_records_for_run(run_id, of_type=kinds).records:
        event = record.event_log_entry.dagster_event
        if event is not None and event.pid is not None:
            seen.setdefault(event.pid, record.event_log_entry.timestamp)
    return seen


def _alive(pid: int, seen_at: float) -> bool:
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and process.create_time() <= seen_at + START_SLACK_S
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def death_reason(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str | None:
    """Why `run` is known to be dead, or None (alive, or on another host: not ours to judge)."""
    if run.tags.get(WORKER_TAG) != worker_identity():
        return None
    processes = _processes(instance, run.run_id)
    if any(_alive(pid, at) for pid, at in processes.items()):
        return None
    pids = ", ".join(str(p) for p in sorted(processes)) or "none recorded"
    return f"none of its processes on {socket.gethostname()} is alive any more (pids {pids})"


def fail_dead_run(instance: dg.DagsterInstance, run: dg.DagsterRun, reason: str, log: Log) -> None:
    """Mark `run` failed with `reason` in its own log, and free every pool slot it holds."""
    if not run.is_finished:
        instance.report_run_failed(run, f"difyops: marked failed because {reason}")
    if instance.event_log_storage.supports_global_concurrency_limits:
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    log(f"released dead run {run.run_id} ({run.job_name}): {reason}; its pool slots are free")


def release_dead_runs(instance: dg.DagsterInstance, pools: Iterable[str], log: Log, *, skip: str = "") -> list[str]:
    """Release every dead run of this host that is still 'in flight' or still holds a slot of `pools`.

    `skip` is the calling run (a run never judges itself). Returns the ids released.
    """
    mine = dg.RunsFilter(statuses=LIVE_STATUSES, tags={WORKER_TAG: worker_identity()})
    candidates = {r.run_id: r for r in instance.get_runs(mine)}
    if instance.event_log_storage.supports_global_concurrency_limits:
        holders: set[str] = set()
        for pool in pools:
            info = instance.event_log_storage.get_concurrency_info(pool)
            holders |= info.active_run_ids | {step.run_id for step in info.pending_steps}
        others = sorted(holders - set(candidates))
        for run in instance.get_runs(dg.RunsFilter(run_ids=others)) if others else []:
            candidates[run.run_id] = run
    released = []
    for run_id, run in candidates.items():
        if run_id == skip:
            continue
        reason = death_reason(instance, run)
        if reason is not None:
            fail_dead_run(instance, run, reason, log)
            released.append(run_id)
    return released


def started_at(instance: dg.DagsterInstance, run_id: str) -> float | None:
    """When the run's worker started it (its RUN_START event), or None if it never did."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_START, limit=1).records
    return records[0].event_log_entry.timestamp if records else None


def seconds_since(moment: float) -> float:
    return time.time() - moment
