"""Which sync run is in flight, if any: the sensor and schedule wait for it, a rollback refuses to race it.

Seed 000 let a new scheduled run kill the running one mid-upload. Here a trigger that fires while a sync runs
requests nothing (the running sync already reads the current bucket; the sensor looks again after it), and a
rollback during a sync is refused, because it could make the colour being written serve traffic.
"""

from __future__ import annotations

import dagster as dg

SYNC_JOB = "sync_job"
ROLLBACK_JOB = "rollback_colour_job"
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def sync_run_in_flight(instance: dg.DagsterInstance) -> str | None:
    """The id of a `sync_job` run that is queued or running, or None."""
    records = instance.get_run_records(dg.RunsFilter(job_name=SYNC_JOB, statuses=IN_FLIGHT), limit=1)
    return records[0].dagster_run.run_id if records else None
