"""The report calendar: days and Monday-to-Sunday weeks in the configured timezone, from `start_date` on.

A partition's window is the only window an asset reads (`[start, end)` of that day or week), so a backfill of
any past range, or a re-run of one day, gives the same answer every time (seed 004 fixed "yesterday" once,
when its deployment was created).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import dagster as dg

from difyops_dagster.reports.build import ReportWindow
from difyops_dagster.reports.config import ReportsSettings

DAY_FORMAT = "%Y-%m-%d"


def daily_partitions(reports: ReportsSettings) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=reports.start_date.isoformat(), timezone=reports.timezone)


def weekly_partitions(reports: ReportsSettings) -> dg.WeeklyPartitionsDefinition:
    return dg.WeeklyPartitionsDefinition(
        start_date=reports.start_date.isoformat(), timezone=reports.timezone, day_offset=1
    )


def report_window(partitions: dg.TimeWindowPartitionsDefinition, key: str, kind: str) -> ReportWindow:
    window = partitions.time_window_for_partition_key(key)
    return ReportWindow(kind, window.start, window.end)  # type: ignore[arg-type]


def days_of(window: ReportWindow) -> list[str]:
    """The daily partition keys inside a window (seven for a week, across DST changes too)."""
    first, last = window.start.date(), window.end.date()
    return [(first + timedelta(days=i)).strftime(DAY_FORMAT) for i in range((last - first).days)]


def last_closed_partition(partitions: dg.TimeWindowPartitionsDefinition, now: datetime) -> str | None:
    """The newest partition whose window has ended by `now` (what a schedule tick should report on)."""
    keys = partitions.get_partition_keys(current_time=now)
    return keys[-1] if keys else None
