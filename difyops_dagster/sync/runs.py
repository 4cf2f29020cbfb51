"""One sync of a dataset pair at a time, and which sync run is in flight.

Seed 000 let a new scheduled run kill the running one mid-upload; two syncs of one pair at once also make the
second plan from a dataset the first is still writing. So there is one sync of a pair at a time, at run level:
- through the daemon's queue, every sync job's run carries the tag `difyops/sync_target` (the pair's dataset
  ids) and `concurrency.runs.tag_concurrency_limits` (dagster.yaml, docker/, helm/) allows one run per value:
  a second sync of the pair stays queued (the UI says why) and starts after the first ended, while syncs of
  other datasets run side by side;
- runs launched from the command line never queue, so the sync's first step waits until every earlier sync of
  the pair that is still running has ended, and only then lists the bucket. A run of the sync's assets that is
  not `sync_job` (the UI's "Materialize all") is tagged by that step, so it counts as a sync from then on.
Either way the later run then finds the bucket already served by the colour the first one promoted and writes
nothing (a no-change run, see assets.py). An earlier run that is dead is released (run_liveness.py) instead of
waited for, so a killed run never blocks the next one. The sensor and the schedule request nothing while a sync
is in flight; a rollback refuses to race one (it could make the colour being written serve traffic).
"""

from __future__ import annotations

import time

import dagster as dg

from difyops_dagster.run_liveness import (
    LIVE_STATUSES,
    WORKER_TAG,
    Log,
    fail_dead_run,
    release_dead_runs,
    started_at,
)

SYNC_JOB = "sync_job"  # these are the unnamed sync's names; a named sync's carry its name (scope.py)
ROLLBACK_JOB = "rollback_colour_job"
TARGET_TAG = "difyops/sync_target"
IN_FLIGHT = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, *LIVE_STATUSES]
# Runs this module waits for: started ones, and command-line runs about to start (NOT_STARTED). Never QUEUED:
# the daemon's queue holds those back behind the running sync, so waiting for them would deadlock.
STARTING_OR_RUNNING = [dg.DagsterRunStatus.NOT_STARTED, *LIVE_STATUSES]
# A sync tags its run with its host in its first step, seconds after it starts; one that has not after this long
# died before it got there (its pids cannot be judged without the host). Dagster's own run_monitoring uses
# start_timeout_seconds for the same case.
START_GRACE_S = 300
WAIT_POLL_S = 2.0
WAIT_LOG_EVERY_S = 60.0


def sync_target(dataset_ids: dict[str, str]) -> str:
    """The `difyops/sync_target` tag value: the pair's dataset ids, in colour order."""
    return "+".join(dataset_ids[name] for name in sorted(dataset_ids))


def known_pools(instance: dg.DagsterInstance) -> list[str]:
    """Every pool the instance has seen a step claim (a dead run may hold a slot of any of them)."""
    if not instance.event_log_storage.supports_global_concurrency_limits:
        return []
    return sorted(instance.event_log_storage.get_concurrency_keys())


def _syncs(instance: dg.DagsterInstance, target: str, statuses: list) -> list[dg.RunRecord]:
    flt = dg.RunsFilter(statuses=statuses, tags={TARGET_TAG: target})
    return list(instance.get_run_records(flt))


def release_dead_syncs(instance: dg.DagsterInstance, target: str, log: Log, skip: str = "") -> None:
    """Release dead runs holding any pool (every sync's, the video feature's), and syncs of `target` that died
    before their first step."""
    release_dead_runs(instance, known_pools(instance), log, skip=skip)
    for record in _syncs(instance, target, STARTING_OR_RUNNING):
        run = record.dagster_run
        if run.run_id == skip or WORKER_TAG in run.tags:
            continue
        began = started_at(instance, run.run_id) or record.create_timestamp.timestamp()
        if time.time() - began > START_GRACE_S:
            why = f"it started {time.time() - began:.0f} s ago and never reached its first step"
            fail_dead_run(instance, run, why, log)


def sync_run_in_flight(instance: dg.DagsterInstance, target: str, log: Log, skip: str = "") -> str | None:
    """The id of a live `sync_job` run of `target` that is queued or running, or None (dead ones are released)."""
    release_dead_syncs(instance, target, log, skip=skip)
    records = [r for r in _syncs(instance, target, IN_FLIGHT) if r.dagster_run.run_id != skip]
    return records[0].dagster_run.run_id if records else None


def pool_wait(instance: dg.DagsterInstance, pool: str, me: str) -> str | None:
    """What a step of run `me` in `pool` will wait for, and how to free it, or None (the pool is free)."""
    if not instance.event_log_storage.supports_global_concurrency_limits:
        return None
    info = instance.event_log_storage.get_concurrency_info(pool)
    held = sorted({f"{s.run_id} ({s.step_key})" for s in info.claimed_slots if s.run_id != me})
    if info.limit is None or len(held) < info.limit:
        return None
    return (
        f"the {pool} pool (limit {info.limit}) is held by run {', '.join(held)}: the writing step waits for it. "
        "A holder that died on this machine is released by the next sync; otherwise free the slot in the UI "
        f"(Deployment > Concurrency > {pool}) or terminate that run."
    )


def wait_for_earlier_syncs(context: dg.OpExecutionContext, target: str) -> None:
    """Block until no sync of `target` created before this run is starting or running.

    A run that is not `sync_job` (the asset graph's "Materialize all", a selection) gets the tag here, so later
    syncs wait for it and the queue holds them back too."""
    instance, me = context.instance, context.run.run_id
    if context.run.tags.get(TARGET_TAG) != target:
        instance.add_run_tags(me, {TARGET_TAG: target})
    mine = instance.get_run_record_by_id(me)
    created = mine.create_timestamp if mine else None
    last_said = 0.0
    while True:
        release_dead_syncs(instance, target, context.log.info, skip=me)
        earlier = [
            r.dagster_run.run_id
            for r in _syncs(instance, target, STARTING_OR_RUNNING)
            if r.dagster_run.run_id != me
            and created is not None
            and (r.create_timestamp, r.dagster_run.run_id) < (created, me)
        ]
        if not earlier:
            return
        if time.monotonic() - last_said >= WAIT_LOG_EVERY_S:
            context.log.info(
                f"waiting for sync run(s) {', '.join(earlier)} of the same datasets to end: one sync of a dataset "
                "pair at a time (a dead one is released automatically); this run lists the bucket after them"
            )
            last_said = time.monotonic()
        time.sleep(WAIT_POLL_S)
