"""Settings of the S3 -> Dify knowledge-base sync."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from difyops_dagster.config_model import SecretEnv, SettingsModel

# What Dify accepts for upload: its own ETL plus the Unstructured ETL's extra types (shared/dify-api.md §3.3).
DEFAULT_EXTENSIONS = (
    "txt", "markdown", "md", "mdx", "pdf", "html", "htm", "xlsx", "xls", "docx", "csv", "vtt", "properties",
    "doc", "eml", "msg", "pptx", "ppt", "xml", "epub",
)  # fmt: skip


class SyncSettings(SettingsModel):
    """Which bucket feeds which Dify dataset(s), and how carefully."""

    bucket: str = Field(description="Bucket holding the source documents.")
    prefix: str = Field(default="", description="Only keys under this prefix are synced (e.g. `docs/`).")
    mode: Literal["blue_green", "single"] = Field(
        default="blue_green",
        description="`blue_green`: sync the standby dataset, then promote it; `single`: one dataset.",
    )
    blue_dataset_id: str | None = Field(default=None, description="Dataset id of the blue colour (blue_green mode).")
    green_dataset_id: str | None = Field(default=None, description="Dataset id of the green colour (blue_green mode).")
    dataset_id: str | None = Field(default=None, description="Dataset id (single mode).")
    accepted_extensions: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EXTENSIONS),
        description="File extensions uploaded to Dify (case-insensitive); others are listed as rejected.",
    )
    max_file_size_mb: float = Field(
        default=15.0, gt=0, description="Larger objects are rejected (Dify's default limit is 15 MB)."
    )
    push_all: bool = Field(
        default=False, description="Re-upload unchanged files too (the seed's 'always push all files')."
    )
    upload_concurrency: int = Field(
        default=4, ge=1, le=64, description="Parallel uploads/deletes within one sync step."
    )
    indexing_timeout_s: float = Field(default=900.0, gt=0, description="How long to wait for Dify to finish indexing.")
    indexing_poll_s: float = Field(default=2.0, gt=0, description="Interval between indexing-status polls.")
    max_delete_ratio: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="A plan deleting more than this share of the dataset is refused (1 = no guard).",
    )
    allow_empty_source: bool = Field(
        default=False, description="Allow syncing an empty listing (otherwise refused: it would empty the dataset)."
    )
    indexing_technique: Literal["high_quality", "economy"] = Field(
        default="high_quality", description="Sent with the first document only, while the dataset has no setting yet."
    )
    process_rule: dict = Field(
        default_factory=lambda: {"mode": "automatic"},
        description="Sent with the first document only; later uploads keep the dataset's own rule.",
    )
    state_key: str = Field(
        default="_difyops/active-colour.json",
        description="Object in the bucket recording the active colour and its history.",
    )
    webhook_url: str | None = Field(default=None, description="Notified (POST JSON) on promotion and rollback.")
    webhook_token: SecretEnv | None = Field(default=None, description="Bearer token for the webhook, as {env: VAR}.")
    schedule_cron: str = Field(default="0 15 * * *", description="Daily sync schedule (cron).")
    schedule_timezone: str = Field(default="UTC", description="Timezone of the schedule, e.g. Asia/Shanghai.")
    sensor_interval_s: int = Field(default=60, ge=10, description="How often the bucket sensor lists the bucket.")

    @field_validator("accepted_extensions")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return sorted({v.lower().lstrip(".") for v in value})

    @field_validator("schedule_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from dagster._utils.schedules import is_valid_cron_string

        if not is_valid_cron_string(value):
            raise ValueError(f"sync.schedule_cron is not a valid cron string: {value!r}")
        return value

    @field_validator("schedule_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"sync.schedule_timezone is not a known timezone: {value!r}") from None
        return value

    @model_validator(mode="after")
    def _datasets_for_mode(self) -> SyncSettings:
        if self.mode == "blue_green":
            if not self.blue_dataset_id or not self.green_dataset_id:
                raise ValueError("sync.blue_dataset_id and sync.green_dataset_id are required in blue_green mode")
            if self.blue_dataset_id == self.green_dataset_id:
                raise ValueError("sync.blue_dataset_id and sync.green_dataset_id must be different datasets")
        elif not self.dataset_id:
            raise ValueError("sync.dataset_id is required in single mode")
        return self

    def targets(self) -> dict[str, str]:
        """Target name -> dataset id: `blue`/`green`, or `main` in single mode."""
        if self.mode == "single":
            return {"main": self.dataset_id or ""}
        return {"blue": self.blue_dataset_id or "", "green": self.green_dataset_id or ""}
