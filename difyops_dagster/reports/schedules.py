"""The daily and weekly schedules: each tick requests the partition that has just closed.

Written with `@dg.schedule` rather than `build_schedule_from_partitioned_job`, whose tick calls a Dagster API
deprecated in 1.13 (`run_request_for_partition`). The partition is derived from the tick's own scheduled time,
so a tick that runs late, or is replayed, still reports the right day — never a date fixed at deploy time.
"""

import dagster as dg

from difyops_dagster.reports.config import WEEKDAYS, ReportsSettings
from difyops_dagster.reports.partitions import last_closed_partition


def _partition_schedule(
    name: str,
    job,
    partitions: dg.TimeWindowPartitionsDefinition,
    cron: str,
    reports: ReportsSettings,
    what: str,
) -> dg.ScheduleDefinition:
    status = dg.DefaultScheduleStatus.RUNNING if reports.schedules_running else dg.DefaultScheduleStatus.STOPPED

    @dg.schedule(
        name=name,
        job=job,
        cron_schedule=cron,
        execution_timezone=reports.timezone,
        default_status=status,
        description=f"Reports the {what} that closed before each tick ({cron}, {reports.timezone}).",
    )
    def schedule(context: dg.ScheduleEvaluationContext):
        key = last_closed_partition(partitions, context.scheduled_execution_time)
        if key is None:
            return dg.SkipReason(f"no {what} has closed since reports.start_date {reports.start_date}")
        return dg.RunRequest(run_key=key, partition_key=key)

    return schedule


def build_report_schedules(
    reports: ReportsSettings, daily: dg.DailyPartitionsDefinition, weekly: dg.WeeklyPartitionsDefinition
) -> tuple[list, list[dg.ScheduleDefinition]]:
    daily_job = dg.define_asset_job(
        "workflow_report_daily_job",
        selection=dg.AssetSelection.assets("workflow_logs", "workflow_report_daily"),
        description="Fetch one day's workflow logs and build its report.",
    )
    weekly_job = dg.define_asset_job(
        "workflow_report_weekly_job",
        selection=dg.AssetSelection.assets("workflow_report_weekly"),
        description="Build one week's report from its stored days.",
    )
    hour, minute = reports.clock("daily")
    w_hour, w_minute = reports.clock("weekly")
    weekday = WEEKDAYS.index(reports.weekly_day)
    schedules = [
        _partition_schedule(
            "workflow_report_daily_schedule", daily_job, daily, f"{minute} {hour} * * *", reports, "day"
        ),
        _partition_schedule(
            "workflow_report_weekly_schedule", weekly_job, weekly, f"{w_minute} {w_hour} * * {weekday}", reports, "week"
        ),
    ]
    return [daily_job, weekly_job], schedules
