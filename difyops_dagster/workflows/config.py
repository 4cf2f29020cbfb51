"""Settings of the Dify workflow runs: one entry per workflow app; adding one adds its asset, schedule and check.

Everything is checked when the code location loads: names (they become asset, pool, schedule and resource
names), cron strings and timezones, and the asset keys named in `run_after`. The app key is a secret: only the
name of its environment variable is stored here.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from difyops_dagster.config_model import (
    CronString,
    SecretEnv,
    SettingsModel,
    TimezoneName,
    check_unique_names,
    name_type,
)

AppName = name_type(
    r"^[a-z][a-z0-9_]{0,47}$", "lowercase letters, digits and `_`, starting with a letter (at most 48 characters)"
)
ASSET_KEY_PART = re.compile(r"^[A-Za-z0-9_]+$")


class WorkflowAppSettings(SettingsModel):
    """One Dify workflow app, run by materializing the asset `workflow_run_<name>`."""

    name: AppName = Field(
        description="Short name: lowercase letters, digits and `_`. Names the asset `workflow_run_<name>`, the "
        "pool `dify_workflow_<name>`, the schedule `workflow_<name>_schedule` and the resource `workflow_app_<name>`."
    )
    api_key: SecretEnv = Field(description="The app's API key (`app-…`), as {env: VAR}.")
    description: str = Field(default="", description="What the app does; shown on the asset in the UI.")
    inputs: dict[str, Any] = Field(
        default_factory=dict,
        description="Default inputs. The launchpad overrides them key by key; all are checked against the app's "
        "`GET /v1/parameters` form before Dify is called.",
    )
    response_mode: Literal["streaming", "blocking"] = Field(
        default="streaming",
        description="`streaming`: node progress in the run log, no gateway timeout, stoppable. `blocking`: one "
        "answer at the end; Dify cannot stop a blocking run, so a timeout or termination only stops waiting.",
    )
    schedule_cron: CronString | None = Field(
        default=None, description="Run on this cron schedule (e.g. `0 * * * *`); leave out for on demand only."
    )
    schedule_timezone: TimezoneName = Field(
        default="UTC", description="IANA timezone of the schedule, e.g. Asia/Shanghai."
    )
    timeout_s: float = Field(
        default=1200.0,
        gt=0,
        description="Longest run, seconds (Dify's own WORKFLOW_MAX_EXECUTION_TIME is 1200). Past it the Dify task "
        "is stopped and the materialization fails.",
    )
    user: str = Field(
        default="difyops-dagster",
        min_length=1,
        description="The `user` sent to Dify: the end user its logs show for these runs.",
    )
    retries: int = Field(
        default=3,
        ge=0,
        le=10,
        description="Step retries when Dify provably did not start the run (unreachable or 5xx before the run "
        "request, or 429 on it). A run that started is never re-run.",
    )
    retry_wait_s: float = Field(
        default=10.0, ge=0, description="Wait before the first such retry, seconds; doubled for each next one."
    )
    run_after: list[str] = Field(
        default_factory=list,
        description="Asset keys this app depends on, e.g. `[active_colour]`: the lineage shows the dependency and "
        "a sensor starts the app when one of them materializes with a change.",
    )

    @field_validator("run_after")
    @classmethod
    def _asset_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            if not all(ASSET_KEY_PART.match(part) for part in key.split("/")):
                raise ValueError(f"run_after entries are asset keys such as active_colour or a/b, got {key!r}")
        return value


class WorkflowsSettings(SettingsModel):
    """The workflow apps this code location runs."""

    apps: list[WorkflowAppSettings] = Field(
        default_factory=list, description="Workflow apps; each becomes an asset (and a schedule if it has one)."
    )

    @model_validator(mode="after")
    def _unique_names(self) -> WorkflowsSettings:
        check_unique_names([app.name for app in self.apps], "workflows.apps")
        return self
