"""Settings of the Dify workflow runs (owned by the workflows feature)."""

from pydantic import Field

from difyops_dagster.config_model import SettingsModel


class WorkflowsSettings(SettingsModel):
    apps: list[dict] = Field(default_factory=list, description="Workflow apps.")
