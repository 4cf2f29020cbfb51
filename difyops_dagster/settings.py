"""Every setting the product reads, declared once, and the load-time check of all of them.

Settings live in one YAML file, found through the `DIFYOPS_CONFIG` environment variable (default
`difyops.yaml` in the working directory). Each section is a pydantic model whose field descriptions are the
documentation (the README's configuration table is generated from them and a test keeps it in sync). Feature
sections are declared in their own package (`sync/config.py`, `video/config.py`, ...) and composed here.

Loading fails with `SettingsError`, whose message names the setting path (`dify.base_url`) and, for
`{env: NAME}` values and secrets, the variable. It never contains a secret value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from difyops_dagster.config_model import SecretEnv, SettingsError, SettingsModel, iter_secrets
from difyops_dagster.dify.compat import AUTO
from difyops_dagster.execution.config import ExecutionSettings
from difyops_dagster.notify.config import NotifySettings
from difyops_dagster.reports.config import ReportsSettings
from difyops_dagster.sync.config import NamedSyncSettings, SyncSettings
from difyops_dagster.sync.ownership import duplicate_names, ownership_conflicts
from difyops_dagster.video.config import VideoSettings
from difyops_dagster.workflows.config import WorkflowsSettings

CONFIG_ENV_VAR = "DIFYOPS_CONFIG"
DEFAULT_CONFIG_PATH = "difyops.yaml"


def _check_http_url(value: str, what: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{what} must be an http(s) URL such as https://dify.example.com/v1, got {value!r}")
    return value.rstrip("/")


class DifyConsoleSettings(SettingsModel):
    """Console credentials, for what the Service API has not: node executions in reports, and switching the apps
    of `sync.apps` to the active colour."""

    url: str = Field(description="Console API root, e.g. https://dify.example.com (the /console/api prefix is added).")
    email: str = Field(description="Console account e-mail.")
    password: SecretEnv = Field(description="Console account password, as {env: VAR}.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_http_url(value, "dify.console.url")


class DifySettings(SettingsModel):
    """How to reach Dify's service API. Keys are per surface: one dataset key, one key per workflow app."""

    base_url: str = Field(
        description="Service API root, e.g. https://dify.example.com/v1 (a URL without /v1 gets it appended)."
    )
    dataset_api_key: SecretEnv | None = Field(
        default=None,
        description="Knowledge (dataset-…) API key, as {env: VAR}. Required by the S3 sync and the video feature.",
    )
    version: str = Field(
        default="auto",
        description="Dify version the server runs (`1.13.2`, `1.13` or `auto`). The server's own report "
        "(`GET /v1/`) is followed and a disagreeing setting is a warning; the setting counts where the server "
        "does not tell (e.g. a proxy hides `/v1/`).",
    )
    connect_timeout_s: float = Field(default=5.0, gt=0, description="TCP connect timeout per request, seconds.")
    read_timeout_s: float = Field(default=60.0, gt=0, description="Read timeout per request, seconds.")
    max_retries: int = Field(
        default=5,
        ge=0,
        le=20,
        description="Retries for 429, 5xx and connection errors on retry-safe requests.",
    )
    backoff_factor_s: float = Field(
        default=0.5,
        ge=0,
        description="Base of the exponential backoff between retries, seconds (with jitter).",
    )
    backoff_max_s: float = Field(default=30.0, gt=0, description="Longest wait between two retries, seconds.")
    rate_limit_per_second: float = Field(
        default=20.0, ge=0, description="Client-side request rate limit per process (0 turns it off)."
    )
    read_concurrency: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Pages of one list (documents, workflow logs) requested at once after the first page, inside "
        "the rate limit; 1 reads page after page.",
    )
    console: DifyConsoleSettings | None = Field(
        default=None,
        description="Console login for node executions in reports and for the apps `sync.apps` switches; optional.",
    )

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        url = _check_http_url(value, "dify.base_url")
        return url if url.endswith("/v1") else url + "/v1"

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        text = str(value).strip()
        if text != AUTO and not re.fullmatch(r"\d+\.\d+(\.\d+)?", text):
            raise ValueError(f"dify.version must be auto or a version such as 1.13.2 or 1.13, got {value!r}")
        return text


class S3Settings(SettingsModel):
    """The S3-compatible store (AWS, MinIO, SeaweedFS, ...). Credentials default to boto3's own chain."""

    endpoint_url: str | None = Field(
        default=None,
        description="Endpoint for S3-compatible servers, e.g. http://127.0.0.1:9000; empty for AWS.",
    )
    region_name: str = Field(default="us-east-1", description="Region name sent to the S3 API.")
    access_key_id: SecretEnv | None = Field(default=None, description="Access key id, as {env: VAR}.")
    secret_access_key: SecretEnv | None = Field(default=None, description="Secret access key, as {env: VAR}.")

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return _check_http_url(value, "s3.endpoint_url") if value else None

    @model_validator(mode="after")
    def _both_or_neither(self) -> S3Settings:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("s3.access_key_id and s3.secret_access_key must be given together")
        return self


class StorageSettings(SettingsModel):
    """Where artifacts (reports, downloads, plans) are written: a local folder or an S3 bucket and prefix."""

    kind: Literal["local", "s3"] = Field(default="local", description="`local` or `s3`.")
    local_dir: str = Field(default="var/artifacts", description="Folder for kind=local (relative to the cwd).")
    bucket: str | None = Field(default=None, description="Bucket for kind=s3.")
    prefix: str = Field(default="difyops/", description="Key prefix for kind=s3.")

    @model_validator(mode="after")
    def _bucket_for_s3(self) -> StorageSettings:
        if self.kind == "s3" and not self.bucket:
            raise ValueError("storage.bucket is required when storage.kind is s3")
        return self


class Settings(SettingsModel):
    """The whole configuration of the code location. A feature whose section is absent is off."""

    dify: DifySettings = Field(description="Dify service API connection.")
    s3: S3Settings = Field(default_factory=S3Settings, description="S3-compatible store connection.")
    storage: StorageSettings = Field(default_factory=StorageSettings, description="Artifact storage.")
    sync: SyncSettings | None = Field(default=None, description="S3 -> Dify knowledge-base sync.")
    syncs: list[NamedSyncSettings] = Field(
        default_factory=list,
        description="Knowledge bases, each a named sync with every setting of `sync` (README 'Many knowledge "
        "bases'); with `sync` or instead of it.",
    )
    video: VideoSettings | None = Field(default=None, description="Video -> knowledge.")
    workflows: WorkflowsSettings | None = Field(default=None, description="Dify workflow app runs.")
    reports: ReportsSettings | None = Field(default=None, description="Workflow-log reports.")
    notify: NotifySettings = Field(default_factory=NotifySettings, description="Notification channels.")
    execution: ExecutionSettings | None = Field(
        default=None, description="How runs execute their steps; absent: a process per step (Dagster's default)."
    )

    def all_syncs(self) -> list[SyncSettings]:
        """The `sync` section (if any) and every entry of `syncs`."""
        return ([self.sync] if self.sync is not None else []) + list(self.syncs)

    @model_validator(mode="after")
    def _dataset_key_when_needed(self) -> Settings:
        syncs = self.all_syncs()
        if (syncs or self.video is not None) and self.dify.dataset_api_key is None:
            raise ValueError("dify.dataset_api_key is required when sync, syncs or video is configured")
        for sync in syncs:
            if sync.apps and self.dify.console is None:
                raise ValueError(
                    f"{sync.section()}.apps needs dify.console (url, email, password): the apps are switched through it"
                )
        return self

    @model_validator(mode="after")
    def _one_owner_each(self) -> Settings:
        twice = duplicate_names(s.name for s in self.syncs)
        if twice:
            raise ValueError(f"syncs: each name must be unique; given more than once: {', '.join(twice)}")
        conflicts = ownership_conflicts(self.all_syncs(), self.video.dataset_id if self.video else None)
        if conflicts:
            raise ValueError("; ".join(conflicts))
        return self


def parse_settings(data: Mapping, environ: Mapping[str, str], source: str = "settings") -> Settings:
    """Validate a settings tree, resolving `{env: NAME}` against `environ`; raise `SettingsError` on any problem."""
    previous = SettingsModel._environ
    SettingsModel._environ = environ
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, source)) from None
    finally:
        SettingsModel._environ = previous
    missing = [
        f"{path} (environment variable {ref.env})" for path, ref in iter_secrets(settings) if not ref.is_set(environ)
    ]
    if missing:
        raise SettingsError(f"{source}: secret not set: " + "; ".join(missing))
    return settings


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the YAML file named by DIFYOPS_CONFIG and validate it."""
    environ = os.environ if environ is None else environ
    path = Path(environ.get(CONFIG_ENV_VAR) or DEFAULT_CONFIG_PATH)
    if not path.is_file():
        raise SettingsError(
            f"{CONFIG_ENV_VAR}: no settings file at {path.resolve()} "
            f"(set {CONFIG_ENV_VAR} to the path of a difyops YAML file; see README 'Configuration')"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"{CONFIG_ENV_VAR}: {path} is not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise SettingsError(f"{CONFIG_ENV_VAR}: {path} must hold a mapping of sections (dify, s3, sync, ...)")
    return parse_settings(data, environ, source=str(path))


def _describe(exc: ValidationError, source: str) -> str:
    """One line per problem, `path: message`, without pydantic's echo of the input (it could be a secret)."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        path = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {message}")
    return f"invalid settings in {source}:\n  " + "\n  ".join(lines)
