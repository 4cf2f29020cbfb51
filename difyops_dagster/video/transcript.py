"""Subtitle files -> readable paragraphs with timestamps. Pure: text in, dataclasses out.

Parsing is webvtt-py's (WebVTT and SRT). What this module adds is what a knowledge document needs and a
player does not:
- cue markup stripped: webvtt-py removes tags (`<c>`, `<i>`, `<v Name>`, YouTube's inline `<00:00:01.500>`
  word timings); HTML entities are decoded here, SSA override blocks (`{\\an8}`, common in SRT) removed, and
  lines that are only a sound tag (`[Music]`, `(applause)`, `♪`) dropped;
- rolling auto-captions de-duplicated: YouTube's automatic captions show each line twice, first as the bottom
  line of one cue and then as the top line of the next (with a 10 ms cue in between repeating it alone), and
  some tracks reveal a line word by word over several cues. A line still on screen (its cue ended at most
  `ON_SCREEN_S` before this cue starts) that comes again is the same line; a line that grows from the one
  just shown replaces it. A sentence said again after it left the screen stays;
- grouping into paragraphs of about `window_s` seconds, closed at a sentence end when there is one, and into
  sections by chapter when the video has chapters. Lines are joined with a space, except next to CJK text,
  which is written without spaces.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import webvtt
from webvtt.errors import MalformedFileError

ON_SCREEN_S = 0.05
SSA_OVERRIDE = re.compile(r"\{\\[^}]*\}")
LEFTOVER_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<\d{2}:\d{2}[:.\d]*>")
SOUND_TAG = re.compile(r"^\s*(\[[^\]]*\]|\([^)]*\)|[♪♫\s]+)\s*$")
SENTENCE_END = re.compile(r"[.!?。！？…]([\"'”’」』)\]]*)$")
CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]")

SubtitleFormat = Literal["vtt", "srt"]


class TranscriptError(ValueError):
    """A subtitle file that cannot be read as WebVTT or SRT."""


@dataclass(frozen=True, slots=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Line:
    """One spoken line, once, from when it first appeared until it left the screen."""

    start: float
    end: float
    text: str


@dataclass(frozen=True, slots=True)
class Chapter:
    start: float
    title: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Section:
    """The paragraphs of one chapter (`title` None: a video without chapters, or the part before the first)."""

    title: str | None
    start: float
    paragraphs: tuple[Paragraph, ...]


def parse_subtitles(text: str, fmt: SubtitleFormat) -> tuple[Cue, ...]:
    text = text.lstrip("\ufeff")
    try:
        if fmt == "vtt":
            captions = webvtt.WebVTT.from_string(text).captions
        else:
            captions = webvtt.WebVTT.from_buffer(text.splitlines(keepends=True), format="srt").captions
    except MalformedFileError as exc:
        raise TranscriptError(f"not a valid {fmt.upper()} file: {exc}") from None
    cues = []
    for caption in captions:
        lines = clean_lines(caption.text)
        if lines:
            start = caption.start_time.in_milliseconds() / 1000
            cues.append(Cue(start, caption.end_time.in_milliseconds() / 1000, lines))
    return tuple(sorted(cues, key=lambda c: (c.start, c.end)))


def clean_lines(text: str) -> tuple[str, ...]:
    """A cue's text as clean lines: no markup, no entities, no sound tags, single spaces."""
    lines = []
    for raw in text.splitlines():
        line = html.unescape(LEFTOVER_TAG.sub("", SSA_OVERRIDE.sub("", raw)))
        line = " ".join(line.replace("\u00a0", " ").split())
        if line and not SOUND_TAG.match(line):
            lines.append(line)
    return tuple(lines)


def spoken_lines(cues: Iterable[Cue]) -> tuple[Line, ...]:
    """Each line once, rolling repeats and word-by-word reveals folded into the line they repeat."""
    emitted: list[Line] = []
    for cue in cues:
        for text in cue.lines:
            recent = [i for i in range(max(0, len(emitted) - 4), len(emitted)) if _on_screen(emitted[i], cue)]
            same = next((i for i in recent if emitted[i].text == text), None)
            if same is not None:
                emitted[same] = _extended(emitted[same], cue.end)
                continue
            last = emitted[-1] if emitted else None
            if last is not None and recent and recent[-1] == len(emitted) - 1:
                if text.startswith(last.text + " "):
                    emitted[-1] = Line(last.start, max(last.end, cue.end), text)
                    continue
                if last.text.startswith(text + " "):
                    continue
            emitted.append(Line(cue.start, cue.end, text))
    return tuple(emitted)


def _on_screen(line: Line, cue: Cue) -> bool:
    return line.end >= cue.start - ON_SCREEN_S


def _extended(line: Line, end: float) -> Line:
    return Line(line.start, max(line.end, end), line.text)


def join_text(parts: Iterable[str]) -> str:
    """Lines joined into running text: a space between words, none next to CJK characters."""
    out = ""
    for part in parts:
        if out and not (CJK.search(out[-1]) or CJK.search(part[0])):
            out += " "
        out += part
    return out


def group_paragraphs(
    lines: Sequence[Line], chapters: Sequence[Chapter] = (), window_s: float = 60.0
) -> tuple[Section, ...]:
    """Sections by chapter (or one), each split into paragraphs of about `window_s` seconds."""
    if not lines:
        return ()
    starts = sorted(chapters, key=lambda c: c.start)
    buckets: list[tuple[str | None, float, list[Line]]] = []
    if not starts or lines[0].start < starts[0].start:
        buckets.append((None, lines[0].start, []))
    buckets += [(c.title, c.start, []) for c in starts]
    for line in lines:
        index = max((i for i, b in enumerate(buckets) if b[1] <= line.start), default=0)
        buckets[index][2].append(line)
    return tuple(Section(title, start, _paragraphs(group, window_s)) for title, start, group in buckets if group)


def _paragraphs(lines: Sequence[Line], window_s: float) -> tuple[Paragraph, ...]:
    paragraphs: list[Paragraph] = []
    current: list[Line] = []
    for line in lines:
        if current and _closes(current, line, window_s):
            paragraphs.append(_paragraph(current))
            current = []
        current.append(line)
    if current:
        paragraphs.append(_paragraph(current))
    return tuple(paragraphs)


def _closes(current: list[Line], line: Line, window_s: float) -> bool:
    """Start a new paragraph with `line`? After a long pause; or once the paragraph has run `window_s` seconds,
    at a sentence end (unpunctuated text such as automatic captions: right there; punctuated text that ran on:
    at one and a half windows)."""
    if line.start - max(c.end for c in current) >= max(8.0, window_s / 4):
        return True
    span = line.start - current[0].start
    if span < window_s:
        return False
    punctuated = any(SENTENCE_END.search(c.text) for c in current)
    return bool(SENTENCE_END.search(current[-1].text)) or not punctuated or span >= 1.5 * window_s


def _paragraph(lines: Sequence[Line]) -> Paragraph:
    return Paragraph(lines[0].start, max(line.end for line in lines), join_text(line.text for line in lines))
