"""`daily_sync_schedule`: the seed's daily run (15:00 by default), in a configured timezone.

A tick while a sync is already running requests nothing (seed 000's new run killed the running one mid-upload);
the running sync reads the current bucket anyway.
"""

from typing import TYPE_CHECKING

import dagster as dg

from difyops_dagster.sync.runs import sync_run_in_flight, sync_target
from difyops_dagster.sync.scope import SyncScope

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition


def build_daily_schedule(scope: SyncScope, job: "UnresolvedAssetJobDefinition") -> dg.ScheduleDefinition:
    settings = scope.settings

    @dg.schedule(
        name=scope.named("daily_sync_schedule"),
        job=job,
        cron_schedule=settings.schedule_cron,
        execution_timezone=settings.schedule_timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Syncs the standby dataset and promotes it at `{settings.schedule_cron}` "
        f"({settings.schedule_timezone}; {scope.label()}).",
    )
    def daily_sync_schedule(context: dg.ScheduleEvaluationContext):
        running = sync_run_in_flight(context.instance, sync_target(settings.targets()), context.log.info)
        if running:
            return dg.SkipReason(f"sync run {running} is still in flight; it already syncs the current bucket")
        tick = context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else "manual"
        return dg.RunRequest(run_key=f"daily-{tick}", tags={"difyops/trigger": "schedule"})

    return daily_sync_schedule
