"""Downloading one video with yt-dlp's Python API into the artifact store, once.

Two steps on one extraction: `extract_info(download=False)` says which subtitles exist; `choose_subtitle` picks
one track (subtitles.py); then `process_ie_result` on that same info writes exactly that track, plus the media
when the source keeps it (or the audio when the video must be transcribed). Nothing is extracted twice.

Re-runs fetch nothing: the video's own yt-dlp download archive (library.py) holds its line once it was
processed, and a video whose record and archive agree is skipped before any request. yt-dlp records nothing
under `skip_download` unless `force_write_download_archive` is set, so it always is. A video with no usable
subtitles is processed too (its record says why); it is fetched again only when asked (`refresh`), when the
source now keeps media, or when transcription was configured since.

Errors become `DownloadFailed` with a scrubbed message and whether a retry can help (network trouble, HTTP 5xx
or 429) or not (unsupported URL, 404, private video).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from yt_dlp.networking.exceptions import HTTPError, TransportError
from yt_dlp.utils import DownloadError, ExtractorError

from difyops_dagster.video.config import VideoSettings, VideoSourceSettings
from difyops_dagster.video.library import DownloadRecord, VideoLibrary
from difyops_dagster.video.sources import VideoRef
from difyops_dagster.video.subtitles import SUBTITLE_FORMAT, SubtitleChoice, choose_subtitle, no_subtitle_reason
from difyops_dagster.video.transcribe import Transcriber, transcription_vtt
from difyops_dagster.video.ytdl import Log, YtdlOptions, open_ytdl, scrub

PRIVATE_KEYS = frozenset({"http_headers", "cookies"})


class DownloadFailed(Exception):
    def __init__(self, message: str, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class DownloadOutcome:
    record: DownloadRecord
    fetched: bool
    stored: Mapping[str, int]  # file name -> bytes, for what this run wrote


def is_satisfied(
    record: DownloadRecord | None, archive: set[str], source: VideoSourceSettings, transcription_on: bool
) -> bool:
    """Does the stored download already give this source what it wants?"""
    if record is None or record.archive_id not in archive:
        return False
    if source.keep_media and not record.media:
        return False
    return not (record.status == "no_subtitles" and transcription_on)


def download_video(
    ref: VideoRef,
    source: VideoSourceSettings,
    settings: VideoSettings,
    options: YtdlOptions,
    library: VideoLibrary,
    log: Log,
    now: datetime,
    transcriber: Transcriber | None = None,
    refresh: bool = False,
) -> DownloadOutcome:
    record = library.record(ref.key)
    if not refresh and is_satisfied(record, library.archive(ref.key), source, transcriber is not None):
        assert record is not None
        return DownloadOutcome(record, fetched=False, stored={})
    try:
        return _fetch(ref, source, settings, options, library, log, now, transcriber)
    except DownloadError as exc:
        message = scrub(str(exc), options.secrets()).removeprefix("ERROR: ")
        raise DownloadFailed(message, _retryable(exc)) from None


def _fetch(
    ref: VideoRef,
    source: VideoSourceSettings,
    settings: VideoSettings,
    options: YtdlOptions,
    library: VideoLibrary,
    log: Log,
    now: datetime,
    transcriber: Transcriber | None,
) -> DownloadOutcome:
    picks = {"playlist_items": str(ref.playlist_index)} if ref.playlist_index else {}
    with open_ytdl(options, log, skip_download=True, **picks) as ydl:
        info = _single(ydl.extract_info(ref.url, download=False))
    languages, accept_auto = source.subtitle_languages, source.accept_auto_captions
    choice = choose_subtitle(info.get("subtitles"), info.get("automatic_captions"), languages, accept_auto)
    transcribe = choice is None and transcriber is not None
    archive: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="difyops-video-") as scratch:
        params = _download_params(Path(scratch), choice, source, settings, archive, transcribe)
        with open_ytdl(options, log, **params) as ydl:
            result = ydl.process_ie_result(info, download=True)
            clean = _without_private(ydl.sanitize_info(result, remove_private_keys=True))
        stored: dict[str, int] = {}

        def put(name: str, data: bytes, content_type: str | None = None) -> str:
            stored[name] = len(data)
            return library.put(ref.key, name, data, content_type)

        info_name = put("info.json", json.dumps(clean, ensure_ascii=False, indent=1).encode(), "application/json")
        downloaded = _downloaded_file(result)
        media = None
        if source.keep_media and downloaded is not None:
            media = put(f"media{downloaded.suffix}", downloaded.read_bytes())
        subtitle, language, kind, reason = None, None, None, None
        if choice is not None:
            path = Path(result["requested_subtitles"][choice.language]["filepath"])
            subtitle = put(f"subtitles.{choice.language}{path.suffix}", path.read_bytes(), "text/plain; charset=utf-8")
            language, kind = choice.language, choice.kind
        elif transcriber is not None and downloaded is not None:
            transcription = transcriber.transcribe(downloaded)
            vtt = transcription_vtt(transcription).encode()
            subtitle = put(f"transcript.{transcription.language}.vtt", vtt, "text/vtt; charset=utf-8")
            language, kind = transcription.language, "transcribed"
        else:
            reason = no_subtitle_reason(info.get("subtitles"), info.get("automatic_captions"), languages, accept_auto)
    record = DownloadRecord(
        key=ref.key,
        url=ref.url,
        status="downloaded" if subtitle else "no_subtitles",
        archive_id=_archive_id(info),
        info=info_name,
        downloaded_at=now.isoformat(),
        subtitle=subtitle,
        subtitle_language=language,
        subtitle_kind=kind,
        media=media,
        reason=reason,
    )
    library.save_archive(ref.key, archive | {record.archive_id})
    library.save_record(record)
    return DownloadOutcome(record, fetched=True, stored=stored)


def _download_params(
    scratch: Path,
    choice: SubtitleChoice | None,
    source: VideoSourceSettings,
    settings: VideoSettings,
    archive: set[str],
    transcribe: bool,
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "outtmpl": {"default": str(scratch / "media.%(ext)s")},
        "download_archive": archive,
        "force_write_download_archive": True,
        "skip_download": not (source.keep_media or transcribe),
        "format": settings.media_format if source.keep_media else "bestaudio/best",
        "writesubtitles": choice is not None and choice.kind == "manual",
        "writeautomaticsub": choice is not None and choice.kind == "automatic",
        "subtitleslangs": [re.escape(choice.language)] if choice else [],
        "subtitlesformat": SUBTITLE_FORMAT,
    }
    return params


def _single(info: Mapping[str, Any]) -> dict[str, Any]:
    """The video itself, also when it was picked out of a page with several (`playlist_items`)."""
    if info.get("_type") == "playlist":
        entries = [e for e in info.get("entries") or [] if e]
        if len(entries) != 1:
            raise DownloadError(f"expected one video at this playlist position, found {len(entries)}")
        return dict(entries[0])
    return dict(info)


def _downloaded_file(result: Mapping[str, Any]) -> Path | None:
    for download in result.get("requested_downloads") or []:
        path = download.get("filepath")
        if path and Path(path).is_file():
            return Path(path)
    return None


def _archive_id(info: Mapping[str, Any]) -> str:
    return f"{str(info.get('extractor_key') or info.get('ie_key')).lower()} {info['id']}"


def _without_private(value: Any) -> Any:
    """The info JSON minus what a request carried: cookies and headers (yt-dlp keeps both per format)."""
    if isinstance(value, dict):
        return {k: _without_private(v) for k, v in value.items() if k not in PRIVATE_KEYS}
    if isinstance(value, list):
        return [_without_private(v) for v in value]
    return value


def _retryable(exc: DownloadError) -> bool:
    cause: BaseException | None = exc.exc_info[1] if exc.exc_info else None
    for _ in range(5):
        if cause is None:
            return False
        if isinstance(cause, HTTPError):
            return cause.status in (408, 429) or cause.status >= 500
        if isinstance(cause, TransportError):
            return True
        if isinstance(cause, ExtractorError) and cause.expected:
            return False
        cause = getattr(cause, "cause", None) or cause.__cause__
    return False
