"""Settings of the workflow-log reports (owned by the reports feature)."""

from pydantic import Field

from difyops_dagster.config_model import SettingsModel


class ReportsSettings(SettingsModel):
    apps: list[dict] = Field(default_factory=list, description="Apps whose logs are reported.")
