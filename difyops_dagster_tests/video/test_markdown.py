"""A video document: a metadata header a reader can place, then the transcript with timestamps that link back to the
right moment where the site allows it (YouTube `&t=`, Bilibili `?t=`, Vimeo `#t=`, a media file's `#t=`) and stay
plain text where it does not (pages found by the HTML5 extractor). Spoken text is literal, never Markdown.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from difyops_dagster.video.markdown import (
    VideoMeta,
    build_document,
    escape_text,
    format_timestamp,
    render_markdown,
    timestamp_url,
    video_meta,
)
from difyops_dagster.video.transcript import Paragraph, Section, parse_subtitles

DATA = Path(__file__).parent / "data"

YOUTUBE_INFO = {
    "id": "dQw4w9WgXcQ",
    "title": "Knowledge bases from video\n(part 1)",
    "channel": "Docs Team",
    "uploader": "docs-team",
    "webpage_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "extractor_key": "Youtube",
    "upload_date": "20260301",
    "duration": 3725,
    "description": "Links: <https://example.com>\nChapters below.",
    "chapters": [
        {"start_time": 0.0, "end_time": 60.0, "title": "Intro"},
        {"start_time": 60.0, "end_time": 150.0, "title": "Blue/green"},
        {"start_time": 150.0, "end_time": 3725.0, "title": "Videos"},
    ],
}


def meta(extractor: str, url: str, video_id: str = "v1") -> VideoMeta:
    return VideoMeta(title="t", url=url, extractor_key=extractor, video_id=video_id)


@pytest.mark.parametrize(
    ("extractor", "url", "expected"),
    [
        ("Youtube", "https://youtu.be/dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=754s"),
        ("BiliBili", "https://www.bilibili.com/video/BV1xx?p=2&t=5", "https://www.bilibili.com/video/BV1xx?p=2&t=754"),
        ("Vimeo", "https://vimeo.com/76979871", "https://vimeo.com/76979871#t=754s"),
        ("Generic", "https://cdn.example.com/talks/clip.MP4", "https://cdn.example.com/talks/clip.MP4#t=754"),
        ("HTML5MediaEmbed", "https://intranet.example.com/talk.html", None),
        ("Generic", "https://example.com/stream", None),
    ],
)
def test_timestamps_link_to_the_moment_only_where_the_site_supports_it(extractor, url, expected):
    assert timestamp_url(meta(extractor, url, "dQw4w9WgXcQ"), 754.9) == expected


@pytest.mark.parametrize(("seconds", "text"), [(0, "0:00"), (75.4, "1:15"), (3599.99, "59:59"), (3725, "1:02:05")])
def test_timestamps_read_like_a_player(seconds, text):
    assert format_timestamp(seconds) == text


def test_the_header_carries_title_channel_link_date_duration_language_and_chapters():
    doc = render_markdown(video_meta(YOUTUBE_INFO, "en", "manual"), [])
    assert doc.splitlines()[:8] == [
        "# Knowledge bases from video (part 1)",
        "",
        "- **Channel:** Docs Team",
        "- **Video:** [https://www.youtube.com/watch?v=dQw4w9WgXcQ](https://www.youtube.com/watch?v=dQw4w9WgXcQ)",
        "- **Uploaded:** 2026-03-01",
        "- **Duration:** 1:02:05",
        "- **Language:** en (subtitles)",
        "- **Chapters:** 3",
    ]
    assert "- [1:00](https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=60s) Blue/green" in doc
    assert "## Description\n\nLinks: &lt;https://example.com>" in doc


def test_missing_facts_are_left_out_rather_than_shown_empty():
    info = {"id": "clip", "title": "clip", "webpage_url": "http://127.0.0.1:1/clip.mp4", "extractor_key": "Generic"}
    doc = render_markdown(video_meta(info, None, None), [])
    assert doc == "# clip\n\n- **Video:** [http://127.0.0.1:1/clip.mp4](http://127.0.0.1:1/clip.mp4)\n\n## Transcript\n"


def test_paragraphs_start_with_their_timestamp_and_chapters_become_headings():
    sections = [
        Section(None, 3.0, (Paragraph(3.0, 20.0, "before the first chapter"),)),
        Section("Set-up", 60.0, (Paragraph(61.0, 80.0, "install it"), Paragraph(95.0, 99.0, "run it"))),
    ]
    page = meta("HTML5MediaEmbed", "http://127.0.0.1:1/talk.html")
    doc = render_markdown(page, sections)
    assert doc.endswith(
        "## Transcript\n\n**0:03** before the first chapter\n\n### Set-up (1:00)\n\n**1:01** install it\n\n"
        "**1:35** run it\n"
    )


def test_spoken_markup_is_escaped_so_it_stays_text():
    assert escape_text("say <b>bold</b> [not a link](x) *twice*") == (
        r"say \<b\>bold\</b\> \[not a link\](x) \*twice\*"
    )


def test_a_caption_file_becomes_a_document_with_each_sentence_once():
    cues = parse_subtitles((DATA / "youtube_auto.en.vtt").read_text(encoding="utf-8"), "vtt")
    info = {**YOUTUBE_INFO, "chapters": [], "description": None}
    document = build_document(info, cues, "en", "automatic", window_s=30)
    assert document.sections == 1 and document.paragraphs == 2
    assert document.markdown.count("welcome back to the channel") == 1
    assert "**[0:03](https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=3s)** hi everyone" in document.markdown
    assert "**[0:46](https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=46s)** okay now" in document.markdown
    assert "- **Language:** en (automatic captions)" in document.markdown
    assert document.words == 103  # the words of the 15 spoken lines, each counted once
