"""The video feature's files in the artifact store (a local folder or S3, whichever the settings choose).

    <prefix>catalog.json                       which videos each source lists (catalog.py)
    <prefix><extractor>/<id>/download.json     what the last download found (DownloadRecord)
    <prefix><extractor>/<id>/archive.txt       yt-dlp's download archive for this one video
    <prefix><extractor>/<id>/info.json         yt-dlp's info JSON, without cookies or request headers
    <prefix><extractor>/<id>/subtitles.<lang>.<ext>, media.<ext>, document.md, document.json (its sidecar)

The folder is the partition key with its `:` turned into `/`. The archive is kept per video, not in one shared
file: concurrent partition runs would lose each other's lines in a shared file, and yt-dlp's archive line for a
direct URL is only `generic <file stem>`, so two sites' `clip.mp4` would share one line there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from difyops_dagster.storage.artifacts import ArtifactStore
from difyops_dagster.video.catalog import Catalog
from difyops_dagster.video.subtitles import Kind

Status = Literal["downloaded", "no_subtitles"]


@dataclass(frozen=True)
class DownloadRecord:
    """What `video_downloads` stored for one video. `status` is `downloaded` when a transcript source exists
    (a subtitle file, or a transcription), `no_subtitles` otherwise, with `reason` saying why."""

    key: str
    url: str
    status: Status
    archive_id: str
    info: str
    downloaded_at: str
    subtitle: str | None = None
    subtitle_language: str | None = None
    subtitle_kind: Kind | None = None
    media: str | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DownloadRecord:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})


def folder(key: str) -> str:
    """`youtube:abc` -> `youtube/abc`: one folder per extractor (keys never contain `/`)."""
    return key.replace(":", "/", 1)


class VideoLibrary:
    def __init__(self, store: ArtifactStore, prefix: str):
        self.store = store
        self.prefix = prefix

    def path(self, key: str, name: str) -> str:
        return f"{self.prefix}{folder(key)}/{name}"

    def location(self, key: str, name: str) -> str:
        return self.store.location(self.path(key, name))

    def put(self, key: str, name: str, data: bytes, content_type: str | None = None) -> str:
        """Store one file of a video; returns its name (relative to the video's folder)."""
        self.store.put_bytes(self.path(key, name), data, content_type)
        return name

    def get(self, key: str, name: str) -> bytes | None:
        return self.store.get_bytes(self.path(key, name))

    def _json(self, path: str) -> Any:
        raw = self.store.get_bytes(path)
        return json.loads(raw) if raw else None

    def catalog(self) -> Catalog:
        return Catalog.from_json(self._json(self.prefix + "catalog.json"))

    def save_catalog(self, catalog: Catalog) -> None:
        data = json.dumps(catalog.to_json(), indent=1, ensure_ascii=False).encode()
        self.store.put_bytes(self.prefix + "catalog.json", data, "application/json")

    def record(self, key: str) -> DownloadRecord | None:
        data = self._json(self.path(key, "download.json"))
        return DownloadRecord.from_json(data) if data else None

    def save_record(self, record: DownloadRecord) -> None:
        data = json.dumps(record.to_json(), indent=1, ensure_ascii=False).encode()
        self.put(record.key, "download.json", data, "application/json")

    def archive(self, key: str) -> set[str]:
        raw = self.get(key, "archive.txt")
        return {line.strip() for line in raw.decode().splitlines() if line.strip()} if raw else set()

    def save_archive(self, key: str, lines: set[str]) -> None:
        self.put(key, "archive.txt", "".join(f"{line}\n" for line in sorted(lines)).encode(), "text/plain")

    def document(self, key: str) -> bytes | None:
        return self.get(key, "document.md")

    def save_document(self, key: str, markdown: bytes, summary: Mapping[str, Any]) -> str:
        """The document, then its sidecar (title, fingerprint, size), which the dataset sync reads instead."""
        self.put(key, "document.md", markdown, "text/markdown; charset=utf-8")
        self.put(key, "document.json", json.dumps(summary, ensure_ascii=False).encode(), "application/json")
        return self.location(key, "document.md")

    def document_summary(self, key: str) -> dict[str, Any] | None:
        return self._json(self.path(key, "document.json"))

    def drop_document(self, key: str) -> None:
        """A video that no longer has a transcript source loses its stale document (sidecar first)."""
        self.store.delete(self.path(key, "document.json"))
        self.store.delete(self.path(key, "document.md"))
