"""Settings of the S3 -> Dify knowledge-base sync (owned by the sync feature)."""

from pydantic import Field

from difyops_dagster.config_model import SettingsModel


class SyncSettings(SettingsModel):
    bucket: str = Field(description="Bucket holding the source documents.")
