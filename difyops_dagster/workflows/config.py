"""Settings of the Dify workflow runs: one entry per workflow app; adding one adds its asset, schedule and check."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from difyops_dagster.config_model import SecretEnv, SettingsModel

NAME = re.compile(r"^[a-z][a-z0-9_]{0,48}$")


class WorkflowAppSettings(SettingsModel):
    """One Dify workflow app."""

    name: str = Field(description="Short name (lowercase, digits, `_`); the asset is `workflow_run_<name>`.")
    api_key: SecretEnv = Field(description="The app's API key (app-…), as {env: VAR}.")
    description: str = Field(default="", description="Shown in the UI.")
    inputs: dict[str, Any] = Field(default_factory=dict, description="Default inputs; the launchpad can override each.")
    response_mode: Literal["streaming", "blocking"] = Field(
        default="streaming",
        description="`streaming` (default: no gateway timeouts, node progress in the log) or `blocking`.",
    )
    schedule_cron: str | None = Field(
        default=None, description="Run on this cron schedule; empty means on demand only."
    )
    schedule_timezone: str = Field(default="UTC", description="Timezone of the schedule.")
    timeout_s: float = Field(default=1200.0, gt=0, description="Stop the Dify task and fail after this long.")
    user: str = Field(default="difyops-dagster", description="The `user` sent to Dify (shows in its logs).")
    run_after: list[str] = Field(
        default_factory=list, description="Asset keys whose new materialization starts this app (e.g. `active_colour`)."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError(f"workflow app name must match {NAME.pattern}, got {value!r}")
        return value

    @field_validator("schedule_cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        from dagster._utils.schedules import is_valid_cron_string

        if value and not is_valid_cron_string(value):
            raise ValueError(f"not a valid cron string: {value!r}")
        return value or None

    @field_validator("schedule_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"not a known timezone: {value!r}") from None
        return value


class WorkflowsSettings(SettingsModel):
    """The workflow apps this code location runs."""

    apps: list[WorkflowAppSettings] = Field(default_factory=list, description="Workflow apps.")

    @model_validator(mode="after")
    def _unique(self) -> WorkflowsSettings:
        names = [a.name for a in self.apps]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"workflow app names must be unique: {', '.join(duplicates)}")
        return self
