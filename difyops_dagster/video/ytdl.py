"""yt-dlp's `YoutubeDL`, opened the one way this feature uses it: polite, quiet, and unable to leak a secret.

- Logging goes through `ScrubbingLogger`, which masks the proxy URL, the cookies file path and any
  credential-looking token before a message reaches Dagster's log (yt-dlp puts proxy URLs in connection errors).
- The cookies file is copied to a private temporary file first: yt-dlp writes its cookie jar back on close and
  must not rewrite (or fail on a read-only) operator's file.
- Extra extractors (an in-house video site) are registered before yt-dlp's own, which end with the catch-all
  generic extractor; yt-dlp's plugin packages still load as usual.
This module must never print: yt-dlp's own console output is off (`quiet`, `noprogress`, `no_color`).
"""

from __future__ import annotations

import contextlib
import importlib
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yt_dlp
from yt_dlp.extractor.common import InfoExtractor

from difyops_dagster.notify.scrub import scrub_text

Log = Callable[[str, str], Any]  # (level, message)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class YtdlOptions:
    """What every YoutubeDL of one run shares. The two secrets are values here, so they stay out of the repr."""

    cookies_file: str | None = field(default=None, repr=False)
    proxy: str | None = field(default=None, repr=False)
    sleep_interval_s: float = 0.0
    rate_limit_bytes_per_s: int | None = None
    retries: int = 3
    socket_timeout_s: float = 30.0
    extra_extractors: tuple[str, ...] = ()

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.cookies_file, self.proxy) if s)


class ScrubbingLogger:
    """yt-dlp's logger interface; every message is scrubbed, `[debug]` chatter is dropped."""

    def __init__(self, log: Log, secrets: tuple[str, ...]):
        self._log = log
        self._secrets = secrets

    def _emit(self, level: str, message: str) -> None:
        self._log(level, scrub(message, self._secrets))

    def debug(self, message: str) -> None:
        if not message.startswith("[debug] "):
            self._emit("debug", message)

    def info(self, message: str) -> None:
        self._emit("info", message)

    def warning(self, message: str) -> None:
        self._emit("warning", message)

    def error(self, message: str) -> None:
        self._emit("error", message)


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """`text` without ANSI colours, secret values, or credentials in URLs."""
    return scrub_text(ANSI.sub("", str(text)), secrets)


def load_extractor(path: str) -> type[InfoExtractor]:
    """`package.module:Class` -> the extractor class; a clear error for anything else."""
    module_name, _, class_name = path.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"video.extra_extractors: cannot import {path}: {exc}") from None
    if not (isinstance(found, type) and issubclass(found, InfoExtractor)):
        raise ValueError(f"video.extra_extractors: {path} is not a yt-dlp InfoExtractor subclass")
    return found


def base_params(options: YtdlOptions, logger: ScrubbingLogger) -> dict[str, Any]:
    """Parameters every call shares: quiet, polite, bounded."""
    params: dict[str, Any] = {
        "logger": logger,
        "quiet": True,
        "noprogress": True,
        "no_color": True,
        "retries": options.retries,
        "fragment_retries": options.retries,
        "extractor_retries": options.retries,
        "socket_timeout": options.socket_timeout_s,
        "noplaylist": False,
    }
    if options.sleep_interval_s:
        params["sleep_interval_requests"] = options.sleep_interval_s
        params["sleep_interval_subtitles"] = options.sleep_interval_s
        params["sleep_interval"] = options.sleep_interval_s
    if options.rate_limit_bytes_per_s:
        params["ratelimit"] = options.rate_limit_bytes_per_s
    if options.proxy:
        params["proxy"] = options.proxy
    return params


@contextlib.contextmanager
def open_ytdl(options: YtdlOptions, log: Log, **params: Any) -> Iterator[yt_dlp.YoutubeDL]:
    """A YoutubeDL with `base_params` plus `params`, extra extractors first, cookies from a private copy."""
    logger = ScrubbingLogger(log, options.secrets())
    merged = {**base_params(options, logger), **params}
    with tempfile.TemporaryDirectory(prefix="difyops-ytdl-") as scratch:
        if options.cookies_file:
            copy = Path(scratch) / "cookies.txt"
            try:
                shutil.copyfile(options.cookies_file, copy)
            except OSError as exc:
                # The path is a secret; name the setting, not the file.
                raise ValueError(f"video.cookies_file cannot be read ({type(exc).__name__})") from None
            merged["cookiefile"] = str(copy)
        ydl = yt_dlp.YoutubeDL(merged, auto_init=False)
        try:
            for path in options.extra_extractors:
                ydl.add_info_extractor(load_extractor(path)())
            ydl.add_default_info_extractors()
            yield ydl
        finally:
            ydl.close()
