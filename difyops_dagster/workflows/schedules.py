"""A schedule per app that has `schedule_cron`, which skips a tick while the app's previous run is still going.

The pool keeps two runs of one app from executing together, but queued runs would still pile up behind a slow
workflow (an hourly schedule over a 90-minute workflow grows its queue forever). So a tick first looks up the
run that last planned this asset, however it was launched (schedule, sensor, UI, `run_workflow_apps`), and skips
with the reason while that run is queued or in progress.
"""

from __future__ import annotations

import dagster as dg

from difyops_dagster.workflows.assets import asset_name
from difyops_dagster.workflows.config import WorkflowAppSettings

IN_FLIGHT = frozenset(
    {
        dg.DagsterRunStatus.QUEUED,
        dg.DagsterRunStatus.NOT_STARTED,
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
        dg.DagsterRunStatus.CANCELING,
    }
)


def run_in_flight(instance: dg.DagsterInstance, asset_key: dg.AssetKey) -> str | None:
    """The id of a queued or running run that will materialize `asset_key`, if there is one."""
    planned = instance.get_latest_planned_materialization_info(asset_key)
    if planned is None:
        return None
    run = instance.get_run_by_id(planned.run_id)
    return run.run_id if run is not None and run.status in IN_FLIGHT else None


def build_workflow_schedule(app: WorkflowAppSettings) -> dg.ScheduleDefinition:
    asset_key = dg.AssetKey(asset_name(app))

    @dg.schedule(
        name=f"workflow_{app.name}_schedule",
        cron_schedule=app.schedule_cron or "",
        execution_timezone=app.schedule_timezone,
        target=dg.AssetSelection.assets(asset_key),
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Runs workflow app '{app.name}' on `{app.schedule_cron}` ({app.schedule_timezone}), "
        "skipping a tick while the previous run is still going.",
    )
    def workflow_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        busy = run_in_flight(context.instance, asset_key)
        if busy:
            return dg.SkipReason(f"{asset_key.to_user_string()} is still running in run {busy}; not stacking another")
        return dg.RunRequest(tags={"difyops/workflow_app": app.name, "difyops/trigger": "schedule"})

    return workflow_schedule
