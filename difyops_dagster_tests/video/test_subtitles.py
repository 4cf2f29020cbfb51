"""Which subtitle track a source gets: manual subtitles in any preferred language beat automatic captions in any,
languages in the configured order, regional variants and YouTube's `-orig` match their base language, and only
WebVTT/SRT tracks count. When nothing fits, the reason names what the site does offer.
"""

from __future__ import annotations

import pytest

from difyops_dagster.video.subtitles import SubtitleChoice, choose_subtitle, matching_languages, no_subtitle_reason

VTT = [{"ext": "vtt", "url": "u"}]
ONLY_JSON = [{"ext": "json3", "url": "u"}, {"ext": "srv3", "url": "u"}]


@pytest.mark.parametrize(
    ("manual", "auto", "languages", "accept_auto", "expected"),
    [
        ({"en": VTT, "de": VTT}, {}, ["de", "en"], True, SubtitleChoice("de", "manual")),
        ({"de": VTT}, {"en": VTT}, ["en", "de"], True, SubtitleChoice("de", "manual")),
        ({}, {"en": VTT, "de": VTT}, ["en", "de"], True, SubtitleChoice("en", "automatic")),
        ({}, {"en": VTT}, ["en"], False, None),
        ({"en-US": VTT, "en-GB": VTT}, {}, ["en"], True, SubtitleChoice("en-GB", "manual")),
        ({}, {"en": VTT, "en-orig": VTT}, ["en"], True, SubtitleChoice("en", "automatic")),
        ({}, {"de": VTT, "en-orig": VTT}, ["en"], True, SubtitleChoice("en-orig", "automatic")),
        ({"zh_Hans": [{"ext": "srt"}]}, {}, ["zh-hans"], True, SubtitleChoice("zh_Hans", "manual")),
        ({"en": ONLY_JSON}, {"en": VTT}, ["en"], True, SubtitleChoice("en", "automatic")),
        ({"fr": VTT}, {}, ["en"], True, None),
        (None, None, ["en"], True, None),
    ],
)
def test_subtitle_choice(manual, auto, languages, accept_auto, expected):
    assert choose_subtitle(manual, auto, languages, accept_auto) == expected


def test_a_language_does_not_match_a_longer_code_that_merely_starts_the_same():
    assert matching_languages(["en", "enm", "en-US"], "en") == ["en", "en-US"]


def test_the_no_subtitles_reason_lists_what_exists():
    assert no_subtitle_reason({}, {}, ["en"], True) == (
        "no subtitles: the site offers no subtitles or captions for this video"
    )
    reason = no_subtitle_reason({"fr": VTT, "en": ONLY_JSON}, {"en": VTT}, ["en", "de"], False)
    assert reason == (
        "no subtitles in en, de; manual: en (not as WebVTT/SRT), fr; automatic: en (not accepted by this source)"
    )


def test_a_long_list_of_automatic_translations_is_shortened():
    auto = {f"l{i:02d}": VTT for i in range(40)}
    assert no_subtitle_reason({}, auto, ["en"], True).endswith("l09 (+30 more)")
