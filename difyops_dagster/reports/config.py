"""Settings of the workflow-log reports: which apps, in which timezone, enriched how, scheduled when, kept how long.

The report window is always a partition's own window in `timezone` (never "yesterday" computed at deploy time,
seed 004's defect); `start_date` is the first day that can be backfilled. This module must not import
`settings.py` (which composes it).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from difyops_dagster.config_model import (
    RelativeFolder,
    SecretEnv,
    SettingsModel,
    TimezoneName,
    check_unique_names,
    name_type,
)

AppName = name_type(r"^[a-z][a-z0-9_]{0,62}$", "lowercase letters, digits and `_`, starting with a letter (at most 63)")
CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")  # cron numbering


class ReportAppSettings(SettingsModel):
    """One Dify workflow app whose logs are reported."""

    name: AppName = Field(description="Short name used in file names and metadata: lowercase letters, digits, `_`.")
    api_key: SecretEnv = Field(description="The app's API key (app-…), as {env: VAR}.")
    app_id: str | None = Field(
        default=None,
        description="The app's id (from its console URL); the console's node-executions route needs it for cost.",
    )
    keyword: str | None = Field(default=None, description="Only runs whose inputs/outputs contain this keyword.")
    status: Literal["succeeded", "failed", "stopped"] | None = Field(
        default=None, description="Only runs with this status (Dify accepts succeeded, failed or stopped)."
    )


class ReportsSettings(SettingsModel):
    """Daily and weekly reports over Dify's workflow logs, stored as CSV / Markdown / JSON / PNG."""

    apps: list[ReportAppSettings] = Field(min_length=1, description="Apps whose logs are reported.")
    timezone: TimezoneName = Field(default="UTC", description="IANA timezone of the report days and of the schedules.")
    start_date: date = Field(description="First day (YYYY-MM-DD) a daily partition exists for; backfills start here.")
    run_details: bool = Field(
        default=True, description="Fetch each run's inputs, outputs and error (GET /workflows/run/{id})."
    )
    node_executions: bool = Field(
        default=True,
        description="Fetch node executions through the console for cost (needs dify.console and apps[].app_id).",
    )
    enrich_max_runs: int = Field(
        default=5000,
        ge=0,
        description="Enrich at most this many runs per app and day (two requests each); the report says how many.",
    )
    enrich_workers: int = Field(default=4, ge=1, le=32, description="Parallel requests while enriching runs.")
    session_gap_minutes: int = Field(
        default=30, ge=1, description="Runs of one user further apart than this start a new session."
    )
    daily_at: str = Field(default="02:00", description="Local time (HH:MM) the daily report of the day before runs.")
    weekly_day: Literal["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"] = Field(
        default="monday", description="Weekday the weekly report of the week before runs (weeks start on Monday)."
    )
    weekly_at: str = Field(default="03:00", description="Local time (HH:MM) the weekly report runs.")
    schedules_running: bool = Field(
        default=True, description="Start the daily and weekly schedules as running (else turn them on in the UI)."
    )
    storage_prefix: RelativeFolder = Field(
        default="reports/", description="Key prefix in the artifact store for log rows and report files."
    )
    retention_days: int = Field(
        default=90, ge=0, description="Delete stored reports and log rows older than this many days (0 keeps all)."
    )
    link_base_url: str | None = Field(
        default=None,
        description="URL prefix under which stored files can be opened (links in notifications); "
        "default: the storage location (path or s3:// URI).",
    )
    notify_backfills: bool = Field(
        default=False, description="Also send notifications for runs of a backfill (off: one per scheduled report)."
    )

    @field_validator("daily_at", "weekly_at")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not CLOCK.match(value):
            raise ValueError(f"report times must be HH:MM (24 h), got {value!r}")
        return value

    @model_validator(mode="after")
    def _retention_covers_a_week(self) -> ReportsSettings:
        if 0 < self.retention_days < 8:
            raise ValueError("reports.retention_days must be 0 (keep all) or at least 8, or weekly reports lose days")
        return self

    @model_validator(mode="after")
    def _unique_names(self) -> ReportsSettings:
        check_unique_names([app.name for app in self.apps], "reports.apps")
        return self

    def clock(self, which: Literal["daily", "weekly"]) -> tuple[int, int]:
        """(hour, minute) of the daily or weekly schedule."""
        match = CLOCK.match(self.daily_at if which == "daily" else self.weekly_at)
        assert match is not None  # validated above
        return int(match.group(1)), int(match.group(2))
