"""One video as a Markdown document for a knowledge base. Pure: yt-dlp's info dict and transcript sections in,
text out.

The header gives what a reader (and a retriever) needs to place the text: title, channel, link, upload date,
duration, the language and kind of the transcript, chapters. Each paragraph starts with its timestamp; where
the site can start playback at a time, the timestamp links there: YouTube `&t=<s>s`, Bilibili `?t=<s>`, Vimeo
`#t=<s>s`, and a direct media file the Media Fragments `#t=<s>` that browsers honour. Pages found by the
generic HTML5 extractor cannot be deep-linked, so their timestamps are plain text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from difyops_dagster.video.transcript import Chapter, Cue, Section, group_paragraphs, spoken_lines

MEDIA_EXTENSIONS = (".mp4", ".m4v", ".webm", ".mov", ".mkv", ".ogv", ".ogg", ".mp3", ".m4a", ".wav", ".opus", ".flac")
KIND_WORDS = {"manual": "subtitles", "automatic": "automatic captions", "transcribed": "offline transcription"}
MAX_DESCRIPTION = 2000
MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]<>]")


@dataclass(frozen=True)
class VideoMeta:
    title: str
    url: str
    extractor_key: str
    video_id: str
    channel: str | None = None
    upload_date: str | None = None  # ISO date
    duration_s: float | None = None
    language: str | None = None
    transcript_kind: str | None = None
    chapters: tuple[Chapter, ...] = ()
    description: str | None = None


def video_meta(info: Mapping[str, Any], language: str | None, transcript_kind: str | None) -> VideoMeta:
    """The header fields from yt-dlp's info dict (whatever the extractor filled in)."""
    date = str(info.get("upload_date") or "")
    chapters = tuple(
        Chapter(float(c.get("start_time") or 0), str(c.get("title") or f"Chapter {i}"))
        for i, c in enumerate(info.get("chapters") or [], start=1)
    )
    return VideoMeta(
        title=str(info.get("title") or info.get("id")),
        url=str(info.get("webpage_url") or info.get("original_url") or ""),
        extractor_key=str(info.get("extractor_key") or ""),
        video_id=str(info.get("id") or ""),
        channel=info.get("channel") or info.get("uploader") or info.get("playlist_title"),
        upload_date=f"{date[:4]}-{date[4:6]}-{date[6:8]}" if len(date) == 8 and date.isdigit() else None,
        duration_s=float(info["duration"]) if info.get("duration") else None,
        language=language,
        transcript_kind=transcript_kind,
        chapters=chapters,
        description=(info.get("description") or "").strip() or None,
    )


def format_timestamp(seconds: float) -> str:
    """`75.4` -> `1:15`, `3725` -> `1:02:05`."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def timestamp_url(meta: VideoMeta, seconds: float) -> str | None:
    """A URL that starts playback at `seconds`, or None when the site has no such link."""
    at = int(seconds)
    extractor = meta.extractor_key.lower()
    parts = urlsplit(meta.url)
    if extractor == "youtube" and meta.video_id:
        return f"https://www.youtube.com/watch?v={meta.video_id}&t={at}s"
    if extractor.startswith("bilibili") and parts.netloc:
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "t"] + [("t", str(at))]
        return urlunsplit(parts._replace(query=urlencode(query), fragment=""))
    if extractor == "vimeo" and parts.netloc:
        return urlunsplit(parts._replace(fragment=f"t={at}s"))
    if extractor == "generic" and parts.path.lower().endswith(MEDIA_EXTENSIONS):
        return urlunsplit(parts._replace(fragment=f"t={at}"))
    return None


def _link(text: str, url: str | None) -> str:
    if not url:
        return text
    return f"[{text}]({url.replace(' ', '%20').replace('(', '%28').replace(')', '%29')})"


def _stamp(meta: VideoMeta, seconds: float) -> str:
    return _link(format_timestamp(seconds), timestamp_url(meta, seconds))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def escape_text(text: str) -> str:
    """Spoken text as literal Markdown: `<b>` said aloud must not become HTML, `[x]` not a link, `*` not emphasis."""
    return MARKDOWN_SPECIAL.sub(r"\\\g<0>", text)


def render_markdown(meta: VideoMeta, sections: Sequence[Section]) -> str:
    out = [f"# {escape_text(_one_line(meta.title))}", ""]
    facts = [
        ("Channel", meta.channel and _one_line(meta.channel)),
        ("Video", _link(meta.url, meta.url) if meta.url else None),
        ("Uploaded", meta.upload_date),
        ("Duration", format_timestamp(meta.duration_s) if meta.duration_s else None),
        ("Language", _language(meta)),
        ("Chapters", str(len(meta.chapters)) if meta.chapters else None),
    ]
    out += [f"- **{name}:** {value}" for name, value in facts if value]
    if meta.chapters:
        out += ["", "## Chapters", ""]
        out += [f"- {_stamp(meta, c.start)} {escape_text(_one_line(c.title))}" for c in meta.chapters]
    if meta.description:
        text = meta.description[:MAX_DESCRIPTION] + ("…" if len(meta.description) > MAX_DESCRIPTION else "")
        out += ["", "## Description", "", text.replace("<", "&lt;")]
    out += ["", "## Transcript"]
    for section in sections:
        if section.title is not None:
            out += ["", f"### {escape_text(_one_line(section.title))} ({_stamp(meta, section.start)})"]
        for paragraph in section.paragraphs:
            out += ["", f"**{_stamp(meta, paragraph.start)}** {escape_text(paragraph.text)}"]
    return "\n".join(out) + "\n"


def _language(meta: VideoMeta) -> str | None:
    if not meta.language:
        return None
    kind = KIND_WORDS.get(meta.transcript_kind or "")
    return f"{meta.language} ({kind})" if kind else meta.language


@dataclass(frozen=True)
class VideoDocument:
    markdown: str
    sections: int
    paragraphs: int
    words: int


def build_document(
    info: Mapping[str, Any],
    cues: Sequence[Cue],
    language: str | None,
    transcript_kind: str | None,
    window_s: float,
) -> VideoDocument:
    """Parsed cues + info -> the document: rolling lines folded, paragraphs grouped by chapter or time."""
    meta = video_meta(info, language, transcript_kind)
    sections = group_paragraphs(spoken_lines(cues), meta.chapters, window_s)
    paragraphs = [p for s in sections for p in s.paragraphs]
    words = sum(len(p.text.split()) for p in paragraphs)
    return VideoDocument(render_markdown(meta, sections), len(sections), len(paragraphs), words)
