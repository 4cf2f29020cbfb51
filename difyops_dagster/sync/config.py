"""Settings of the S3 -> Dify knowledge-base sync (the `sync:` section). Checked when the code location loads.

Every field carries its description: the README's configuration table is generated from them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from difyops_dagster.config_model import CronString, DatasetId, SecretEnv, SettingsModel, TimezoneName
from difyops_dagster.sync.gate_config import APPS_DESCRIPTION, RETRIEVAL_CHECKS_DESCRIPTION, AppIds, RetrievalChecks

# What a stock Dify (ETL_TYPE=dify, the default) accepts for upload: `_DEFAULT_DOCUMENT_EXTENSION_BASE` in Dify's
# api/constants/__init__.py, the same list on every recorded version (1.7.2-1.13.2 refuse `feed.xml`).
DEFAULT_EXTENSIONS = (
    "txt", "markdown", "md", "mdx", "pdf", "html", "htm", "xlsx", "xls", "docx", "csv", "vtt", "properties",
)  # fmt: skip

PROCESS_RULE_MODES = ("automatic", "custom", "hierarchical")


# The widest upload pool a sync may ask for; the Dify client keeps as many connections (dify/transport.py).
MAX_UPLOAD_CONCURRENCY = 256


class SyncSettings(SettingsModel):
    """Which bucket feeds which Dify dataset(s), and how carefully."""

    bucket: str = Field(description="Bucket holding the source documents.")
    prefix: str = Field(default="", description="Only keys under this prefix are synced (e.g. `docs/`).")
    mode: Literal["blue_green", "single"] = Field(
        default="blue_green",
        description="`blue_green`: each run syncs the standby dataset, then promotes it; `single`: one dataset.",
    )
    blue_dataset_id: DatasetId | None = Field(
        default=None, description="Dataset id of the blue colour (blue_green mode)."
    )
    green_dataset_id: DatasetId | None = Field(
        default=None, description="Dataset id of the green colour (blue_green mode)."
    )
    dataset_id: DatasetId | None = Field(default=None, description="Dataset id (single mode).")
    accepted_extensions: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EXTENSIONS),
        description="File extensions uploaded to Dify (case-insensitive); other objects are listed as rejected. "
        "The default is what a stock Dify's ETL reads; a Dify with ETL_TYPE=Unstructured also takes doc, eml, msg, "
        "pptx, xml, epub (and ppt with UNSTRUCTURED_API_URL).",
    )
    max_file_size_mb: float = Field(
        default=15.0, gt=0, description="Larger objects are listed as rejected (Dify's default limit is 15 MB)."
    )
    push_all: bool = Field(
        default=False,
        description="Re-upload unchanged files too (seed 000's 'always push all files'; re-embeds everything).",
    )
    upload_concurrency: int = Field(
        default=4,
        ge=1,
        le=MAX_UPLOAD_CONCURRENCY,
        description="Dify calls in flight at once inside one sync step (its thread pool). Dify's own API workers "
        "bound what helps: raise it only as far as they can take.",
    )
    indexing_timeout_s: float = Field(
        default=900.0, gt=0, description="How long a sync waits for Dify to finish indexing, seconds."
    )
    indexing_poll_s: float = Field(default=2.0, gt=0, description="Interval between indexing-status polls, seconds.")
    max_delete_ratio: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="A plan deleting more than this share of the dataset is refused (1 turns the guard off; an "
        "empty listing is always refused).",
    )
    indexing_technique: Literal["high_quality", "economy"] = Field(
        default="high_quality",
        description="Sent only while the dataset has no documents or no technique yet; then the dataset's own applies.",
    )
    process_rule: dict[str, Any] = Field(
        default_factory=lambda: {"mode": "automatic"},
        description="Chunking rule sent with the first documents only (Dify requires one); later uploads keep the "
        "dataset's rule.",
    )
    state_key: str = Field(
        default="_difyops/active-colour.json",
        description="Object in the bucket recording the active colour and its history (never synced itself).",
    )
    webhook_url: str | None = Field(
        default=None, description="Notified with a JSON POST (dataset ids) on every promotion and rollback."
    )
    webhook_token: SecretEnv | None = Field(
        default=None, description="Bearer token sent to the webhook, as {env: VAR}."
    )
    schedule_cron: CronString = Field(default="0 15 * * *", description="When the scheduled sync runs (cron).")
    schedule_timezone: TimezoneName = Field(default="UTC", description="Timezone of the schedule, e.g. Asia/Shanghai.")
    sensor_interval_s: int = Field(
        default=60, ge=10, description="How often `bucket_changed_sensor` looks at the bucket, seconds."
    )
    sensor_tick_budget_s: float = Field(
        default=10.0,
        gt=0,
        le=45,
        description="Listing time one sensor tick may take, seconds; a listing that needs longer continues from "
        "its cursor on the next tick (Dagster's sensor timeout is 60 s).",
    )
    notifications_queue_url: str | None = Field(
        default=None,
        description="SQS queue the bucket sends its S3 event notifications to (ObjectCreated/ObjectRemoved, directly, "
        "through SNS or EventBridge). The sensor then reads the queue each tick instead of listing the bucket, and "
        "lists it only every `reconcile_interval_s`. Empty: list every tick.",
    )
    notifications_endpoint_url: str | None = Field(
        default=None, description="SQS endpoint for a local or S3-compatible setup (e.g. moto); empty for AWS."
    )
    reconcile_interval_s: int = Field(
        default=3600,
        ge=60,
        description="With notifications: how often the bucket is listed in full anyway, to catch a lost event.",
    )
    apps: AppIds = Field(default_factory=list, description=APPS_DESCRIPTION)
    retrieval_checks: RetrievalChecks | None = Field(default=None, description=RETRIEVAL_CHECKS_DESCRIPTION)

    @field_validator("accepted_extensions")
    @classmethod
    def _extensions(cls, value: list[str]) -> list[str]:
        cleaned = sorted({v.strip().lower().lstrip(".") for v in value} - {""})
        if not cleaned:
            raise ValueError("must name at least one extension, e.g. [md, txt, pdf]")
        return cleaned

    @field_validator("process_rule")
    @classmethod
    def _process_rule(cls, value: dict[str, Any]) -> dict[str, Any]:
        if value.get("mode") not in PROCESS_RULE_MODES:
            raise ValueError(f"process_rule.mode must be one of {', '.join(PROCESS_RULE_MODES)}")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value or None

    @model_validator(mode="after")
    def _datasets_for_mode(self) -> SyncSettings:
        at = self.section()
        if self.mode == "blue_green":
            if not self.blue_dataset_id or not self.green_dataset_id:
                raise ValueError(f"{at}.blue_dataset_id and {at}.green_dataset_id are required in blue_green mode")
            if self.blue_dataset_id == self.green_dataset_id:
                raise ValueError(f"{at}.blue_dataset_id and {at}.green_dataset_id must be different datasets")
            if self.dataset_id:
                raise ValueError(f"{at}.dataset_id is for single mode; blue_green uses blue/green_dataset_id")
        elif not self.dataset_id:
            raise ValueError(f"{at}.dataset_id is required in single mode")
        elif self.apps or self.retrieval_checks:
            raise ValueError(
                f"{at}.apps and {at}.retrieval_checks need blue_green mode (there is no other colour to switch the "
                "apps to or to compare retrieval with)"
            )
        return self

    def section(self) -> str:
        """Where this sync's settings are, for messages (`sync`, or `syncs[handbook]`)."""
        return "sync"

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_size_mb * 1024 * 1024)

    def targets(self) -> dict[str, str]:
        """Target name -> dataset id: `blue` and `green`, or `main` in single mode."""
        if self.mode == "single":
            return {"main": self.dataset_id or ""}
        return {"blue": self.blue_dataset_id or "", "green": self.green_dataset_id or ""}


SYNC_NAME = r"^[a-z][a-z0-9_]{0,39}$"


class NamedSyncSettings(SyncSettings):
    """One knowledge base of `syncs:`: everything `sync:` has, under a name (scope.py says what it names)."""

    name: str = Field(
        pattern=SYNC_NAME,
        description="Lowercase name (letters, digits, `_`), unique among the syncs: the asset group `sync_<name>`, "
        "the asset keys `<name>/...`, the jobs, schedule, sensor and pools carry it. Every other setting is the "
        "`sync` section's; `state_key` defaults to `_difyops/<name>/active-colour.json`.",
    )

    def section(self) -> str:
        return f"syncs[{self.name}]"

    @model_validator(mode="before")
    @classmethod
    def _state_key_under_name(cls, data: Any) -> Any:
        """Each named sync keeps its own colour state: `_difyops/<name>/active-colour.json` unless set."""
        if isinstance(data, dict) and "state_key" not in data and isinstance(data.get("name"), str):
            return {**data, "state_key": f"_difyops/{data['name']}/active-colour.json"}
        return data
