"""`video_sources_sensor`: the first look adds one `videos` partition per video and requests one run each; the next
look with nothing new skips and says why; a new feed item adds exactly one partition; an unreadable source keeps
its videos and is named in the skip reason. The cursor remembers how URL-only feed items resolved, so a later tick
asks the site for the feed alone.

Ticks are walked one at a time with a throwaway instance, as a restarted daemon would see them.
"""

from __future__ import annotations

import json

import dagster as dg
import pytest

from difyops_dagster_tests.video.sample_site import publish_three_videos

pytestmark = pytest.mark.slow  # a first generic extraction in a process compiles yt-dlp's embed patterns (seconds)


def test_the_first_look_adds_a_partition_and_a_run_per_video_then_nothing_new_skips(world):
    videos = publish_three_videos(world.site)
    world.sources = [{"name": "team", "url": videos.feed}]
    defs = world.defs()
    result, cursor = world.tick(defs)
    assert isinstance(result, dg.SensorResult)
    keys = [r.partition_key for r in result.run_requests]
    assert [r.run_key for r in result.run_requests] == keys
    assert list(result.dynamic_partitions_requests[0].partition_keys) == keys
    assert set(json.loads(cursor)["resolved"]) == {videos.manual, videos.auto, videos.bare}

    world.site.clear()
    skipped, cursor = world.tick(defs, cursor)
    assert isinstance(skipped, dg.SkipReason)
    assert skipped.skip_message == "no new videos: 3 listed by 1 source(s)"
    assert world.site.paths() == ["/feed.xml"]


def test_a_new_feed_item_is_the_only_new_partition(world):
    videos = publish_three_videos(world.site)
    world.sources = [{"name": "team", "url": videos.feed}]
    defs = world.defs()
    _, cursor = world.tick(defs)
    extra = world.site.media("talks/later.mp4")
    world.site.feed(
        "feed.xml",
        "Team videos",
        [
            {"title": "Release walkthrough", "link": videos.manual},
            {"title": "Building a knowledge base", "link": videos.auto},
            {"title": "A talk without captions", "enclosure": videos.bare},
            {"title": "Later", "enclosure": extra},
        ],
    )
    result, _ = world.tick(defs, cursor)
    (request,) = result.run_requests
    assert request.partition_key.startswith("generic:later~")
    assert len(world.instance.get_dynamic_partitions("videos")) == 4


def test_an_unreadable_source_keeps_its_videos_and_is_named(world):
    videos = publish_three_videos(world.site)
    world.sources = [{"name": "team", "url": videos.feed}, {"name": "broken", "url": world.site.url("missing.xml")}]
    defs = world.defs()
    result, cursor = world.tick(defs)
    assert len(result.run_requests) == 3
    (world.site.root / "feed.xml").unlink()
    skipped, _ = world.tick(defs, cursor)
    assert skipped.skip_message == "no new videos: 3 listed by 2 source(s); 2 source(s) could not be read"


def test_max_videos_takes_the_first_entries_of_a_feed(world):
    videos = publish_three_videos(world.site)
    world.sources = [{"name": "team", "url": videos.feed, "max_videos": 2}]
    result, _ = world.tick(world.defs())
    assert [r.partition_key.split(":")[0] for r in result.run_requests] == ["html5mediaembed", "localtube"]
