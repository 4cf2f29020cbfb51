"""Settings of the video -> knowledge feature (owned by the video feature)."""

from pydantic import Field

from difyops_dagster.config_model import SettingsModel


class VideoSettings(SettingsModel):
    dataset_id: str = Field(description="Dify dataset the video documents are synced into.")
