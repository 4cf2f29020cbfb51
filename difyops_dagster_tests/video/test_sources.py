"""Partition keys and flat playlist results, as pure functions.

A key is yt-dlp's extractor and id. yt-dlp's own identity (`generic clip`, `html5mediaembed index-1`) collides
across sites for the generic extractors, whose ids are file stems, so their keys carry a hash of the URL; ids with
characters Dagster or a storage path would not take are made safe and hashed too. Every key must pass Dagster's
partition-key rules.
"""

from __future__ import annotations

import pytest
from dagster._core.definitions.partitions.utils.base import raise_error_on_invalid_partition_key_substring

from difyops_dagster.video.config import VideoSourceSettings
from difyops_dagster.video.sources import SourceExpansion, VideoRef, merge_expansions, partition_key, refs_from_info

SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:~-")


def test_a_site_id_is_kept_as_it_is():
    assert partition_key("Youtube", "dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ") == (
        "youtube:dQw4w9WgXcQ"
    )


def test_the_same_file_name_on_two_sites_gets_two_keys():
    a = partition_key("Generic", "clip", "https://a.example/clip.mp4")
    b = partition_key("Generic", "clip", "https://b.example/clip.mp4")
    assert a != b and a.startswith("generic:clip~") and b.startswith("generic:clip~")
    assert partition_key("Generic", "clip", "https://a.example/clip.mp4") == a  # stable


def test_html5_pages_named_alike_get_two_keys():
    assert partition_key("HTML5MediaEmbed", "index-1", "https://a.example/index.html") != partition_key(
        "HTML5MediaEmbed", "index-1", "https://b.example/index.html"
    )


@pytest.mark.parametrize(
    "video_id",
    ["a/b c", "x...y", "tab\there", "pipe|comma,[brackets]", "ü" * 10, "x" * 300, "", "..", "a:b"],
)
def test_any_id_gives_a_key_dagster_and_a_storage_path_accept(video_id):
    key = partition_key("SomeSite:Tab", video_id, "https://example.com/v")
    raise_error_on_invalid_partition_key_substring([key])
    assert set(key) <= SAFE and "..." not in key and len(key) <= 120
    assert key.count(":") == 1  # the extractor part is made safe too: the first `:` separates the two


def test_unsafe_ids_that_only_differ_in_the_unsafe_characters_stay_apart():
    assert partition_key("Site", "a/b", "u") != partition_key("Site", "a b", "u")


SOURCE = VideoSourceSettings(name="s", url="https://example.com/list")


def no_resolve(url: str, depth: int) -> list[VideoRef]:
    raise AssertionError(f"unexpected resolution of {url}")


def test_a_flat_youtube_playlist_needs_no_request_per_entry():
    info = {
        "_type": "playlist",
        "webpage_url": "https://www.youtube.com/playlist?list=PL1",
        "entries": [
            {"_type": "url", "ie_key": "Youtube", "id": v, "url": f"https://www.youtube.com/watch?v={v}", "title": t}
            for v, t in (("aaaaaaaaaaa", "A"), ("bbbbbbbbbbb", "B"))
        ],
    }
    refs = refs_from_info(info, SOURCE, no_resolve)
    assert [(r.key, r.title, r.archive_id) for r in refs] == [
        ("youtube:aaaaaaaaaaa", "A", "youtube aaaaaaaaaaa"),
        ("youtube:bbbbbbbbbbb", "B", "youtube bbbbbbbbbbb"),
    ]


def test_url_only_entries_are_resolved_and_keep_their_own_url():
    seen = []

    def resolve(url: str, depth: int) -> list[VideoRef]:
        seen.append((url, depth))
        return [VideoRef("generic:x~1", url, "Generic", "x", "s")]

    info = {"_type": "playlist", "entries": [{"_type": "url_transparent", "url": "https://a.example/x.mp4"}]}
    assert [r.url for r in refs_from_info(info, SOURCE, resolve)] == ["https://a.example/x.mp4"]
    assert seen == [("https://a.example/x.mp4", 1)]


def test_videos_of_a_page_with_several_are_fetched_by_position():
    info = {
        "_type": "playlist",
        "webpage_url": "https://a.example/two.html",
        "entries": [
            {"id": "two-1", "extractor_key": "HTML5MediaEmbed", "playlist_index": 1},
            {"id": "two-2", "extractor_key": "HTML5MediaEmbed", "playlist_index": 2},
        ],
    }
    refs = refs_from_info(info, SOURCE, no_resolve)
    assert [(r.url, r.playlist_index) for r in refs] == [
        ("https://a.example/two.html", 1),
        ("https://a.example/two.html", 2),
    ]
    assert refs[0].key != refs[1].key


def test_max_videos_cuts_the_list_in_site_order():
    entries = [{"_type": "url", "ie_key": "Youtube", "id": f"id{i:09d}", "url": f"u{i}"} for i in range(5)]
    source = VideoSourceSettings(name="s", url="https://example.com/list", max_videos=2)
    refs = refs_from_info({"_type": "playlist", "entries": entries}, source, no_resolve)
    assert [r.video_id for r in refs] == ["id000000000", "id000000001"]


def test_nested_playlists_stop_at_two_levels():
    def nest(depth: int) -> dict:
        if depth == 0:
            return {"id": "leaf", "extractor_key": "Site", "webpage_url": "https://example.com/leaf"}
        return {"_type": "playlist", "entries": [nest(depth - 1)]}

    assert len(refs_from_info(nest(3), SOURCE, no_resolve)) == 1
    assert refs_from_info(nest(4), SOURCE, no_resolve) == []


def test_a_video_listed_by_two_sources_belongs_to_the_first():
    ref = VideoRef("youtube:a", "u", "Youtube", "a", "first")
    merged = merge_expansions(
        [
            SourceExpansion("first", (ref,)),
            SourceExpansion("second", (VideoRef("youtube:a", "u", "Youtube", "a", "second"),)),
        ]
    )
    assert merged == {"youtube:a": ref}
