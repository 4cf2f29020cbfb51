"""Subtitle files become clean, de-duplicated lines and readable paragraphs.

The fixtures in `data/` are real-format files: a YouTube automatic-caption WebVTT as yt-dlp downloads it (two-line
rolling cues, 10 ms repeat cues, inline word timings, `[Music]`), a manual WebVTT with STYLE/NOTE blocks, voice
spans and entities, a Chinese SRT with BOM, CRLF, SSA overrides and `<font>`, and an SRT that reveals a line word
by word. Each spoken line must come out exactly once, at the time it first appeared.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from difyops_dagster.video.transcript import (
    Chapter,
    Cue,
    Line,
    TranscriptError,
    clean_lines,
    group_paragraphs,
    join_text,
    parse_subtitles,
    spoken_lines,
)

DATA = Path(__file__).parent / "data"

AUTO_SENTENCES = [
    "hi everyone and welcome back to the channel",
    "today we're going to build a knowledge base",
    "from a playlist of videos so that people",
    "can ask questions about what was said",
    "the first step is to download the captions",
    "and the second step is to clean them up",
    "because automatic captions repeat every line",
    "as you can see on the screen right now",
    "let's get started",
    "okay now that the download is done",
    "we group the lines into paragraphs",
    "of about thirty seconds each",
    "and every paragraph gets a timestamp",
    "that links back to the right moment",
    "in the video thanks for watching",
]


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def test_rolling_auto_captions_yield_each_line_once_at_its_first_appearance():
    cues = parse_subtitles(read("youtube_auto.en.vtt"), "vtt")
    assert len(cues) == 30  # 32 in the file; the two holding only `[Music]` have no speech
    lines = spoken_lines(cues)
    assert [line.text for line in lines] == AUTO_SENTENCES
    assert lines[0].start == pytest.approx(3.08)
    assert lines[1].start == pytest.approx(6.40)  # when it appeared as the bottom line, not when it rolled up
    assert lines[9].start == pytest.approx(46.10)


def test_inline_word_timings_and_sound_tags_never_reach_the_text():
    lines = spoken_lines(parse_subtitles(read("youtube_auto.en.vtt"), "vtt"))
    text = " ".join(line.text for line in lines)
    for leftover in ("<c>", "</c>", "<00:", "[Music]", "align:start"):
        assert leftover not in text


def test_manual_webvtt_markup_entities_notes_and_styles_are_stripped():
    lines = spoken_lines(parse_subtitles(read("manual.en.vtt"), "vtt"))
    assert [line.text for line in lines] == [
        "Welcome to the release walkthrough.",
        "Today: what changed in the",
        "knowledge base sync & why.",
        "First, the blue/green datasets.",
        "Each run writes the standby colour only.",
        "Then it checks the result before promoting it.",
        "Second: videos become documents.",
        "Captions are cleaned, grouped, and linked <back> to the video.",
        "Thanks for watching!",
    ]


def test_chinese_srt_with_bom_crlf_and_ssa_tags_is_read_and_joined_without_spaces():
    cues = parse_subtitles(read("lecture.zh.srt"), "srt")
    assert cues[0].start == pytest.approx(4.2)  # the `{\an8}[音乐]` cue holds no speech
    (section,) = group_paragraphs(spoken_lines(cues), window_s=60)
    (paragraph,) = section.paragraphs
    assert paragraph.text == (
        "大家好，欢迎来到本次讲座。今天我们讨论如何把视频变成知识库文档。"
        "首先，用 yt-dlp 下载字幕。然后清理字幕并按时间分段。"
    )
    assert "font" not in paragraph.text and "{" not in paragraph.text


def test_a_line_revealed_word_by_word_is_one_line_and_a_later_repeat_stays():
    lines = spoken_lines(parse_subtitles(read("progressive.en.srt"), "srt"))
    assert lines == (
        Line(1.0, 3.5, "so the plan is simple"),
        Line(3.5, 5.2, "download then clean"),
        Line(20.0, 21.0, "so the plan is simple"),
    )


def test_overlapping_cues_of_two_speakers_keep_both_lines():
    cues = [Cue(1.0, 4.0, ("Are you ready?",)), Cue(2.0, 5.0, ("Almost.",))]
    assert spoken_lines(cues) == (Line(1.0, 4.0, "Are you ready?"), Line(2.0, 5.0, "Almost."))


def test_a_line_repeated_while_on_screen_is_folded_and_one_said_again_later_is_kept():
    on_screen = [Cue(1.0, 4.0, ("Are you ready?",)), Cue(4.0, 6.0, ("Are you ready?",))]
    assert spoken_lines(on_screen) == (Line(1.0, 6.0, "Are you ready?"),)
    later = [Cue(1.0, 4.0, ("Are you ready?",)), Cue(4.5, 6.0, ("Are you ready?",))]
    assert [line.start for line in spoken_lines(later)] == [1.0, 4.5]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<v Mei>Hello &amp; welcome</v>", ("Hello & welcome",)),
        ("{\\an8}Top line", ("Top line",)),
        ("[Applause]\nThank you", ("Thank you",)),
        ("(laughs)", ()),
        ("♪ ♪", ()),
        ("two  spaces\u00a0here", ("two spaces here",)),
        ('<font color="#fff">tinted</font>', ("tinted",)),
    ],
)
def test_cue_text_is_cleaned_to_plain_lines(raw, expected):
    assert clean_lines(raw) == expected


def test_a_file_that_is_not_webvtt_is_refused_with_the_format_named():
    with pytest.raises(TranscriptError, match="not a valid VTT file"):
        parse_subtitles("1\n00:00:01,000 --> 00:00:02,000\nthis is SRT\n", "vtt")


def test_paragraphs_close_at_a_pause_and_never_run_past_the_window_for_unpunctuated_captions():
    lines = spoken_lines(parse_subtitles(read("youtube_auto.en.vtt"), "vtt"))
    (section,) = group_paragraphs(lines, window_s=30)
    starts = [p.start for p in section.paragraphs]
    assert starts == [pytest.approx(3.08), pytest.approx(46.10)]  # the 12-second pause after "let's get started"
    assert section.paragraphs[0].text.endswith("let's get started")
    assert " ".join(p.text for p in section.paragraphs) == " ".join(AUTO_SENTENCES)
    short = group_paragraphs(lines, window_s=10)[0].paragraphs
    assert all(p.end - p.start <= 10 * 1.5 + 7 for p in short) and len(short) > 2


def test_punctuated_text_is_split_at_a_sentence_end_after_the_window():
    lines = [Line(i * 5.0, i * 5.0 + 5, text) for i, text in enumerate(["One two", "three.", "Four five", "six."])]
    paragraphs = group_paragraphs(lines, window_s=8)[0].paragraphs
    assert [p.text for p in paragraphs] == ["One two three.", "Four five six."]


def test_chapters_become_sections_and_text_before_the_first_chapter_has_its_own():
    lines = spoken_lines(parse_subtitles(read("manual.en.vtt"), "vtt"))
    sections = group_paragraphs(lines, [Chapter(60, "Blue/green"), Chapter(150, "Videos")], window_s=60)
    assert [(s.title, s.start) for s in sections] == [(None, 0.5), ("Blue/green", 60), ("Videos", 150)]
    assert sections[1].paragraphs[0].text.startswith("First, the blue/green datasets.")


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (["hello", "world"], "hello world"),
        (["你好，", "世界"], "你好，世界"),
        (["用 yt-dlp", "下载"], "用 yt-dlp下载"),
        (["see", "图一"], "see图一"),
    ],
)
def test_lines_are_joined_with_spaces_except_next_to_cjk(parts, expected):
    assert join_text(parts) == expected


def test_no_cues_no_sections():
    assert group_paragraphs(()) == ()
