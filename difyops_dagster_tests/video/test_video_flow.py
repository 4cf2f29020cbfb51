"""Videos to knowledge, end to end: a feed of three local videos (manual subtitles, only automatic captions, none)
becomes three partitions, two documents in the stand-in's dataset and one "no subtitles" report; running it all
again fetches nothing from the site and writes nothing to Dify.

yt-dlp does every extraction here (RSS feed, HTML5 page, LocalTube page, direct media file) against files served
from 127.0.0.1; the request log of that server is the proof of what was fetched.
"""

from __future__ import annotations

import pytest

from difyops_dagster_tests.video.sample_site import publish_three_videos

pytestmark = pytest.mark.slow


def _failure_message(result) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return " | ".join(str(e.event_specific_data.error.message) for e in failures)


def test_three_videos_become_two_documents_and_one_no_subtitles_report(world):
    videos = publish_three_videos(world.site)
    world.sources = [{"name": "team", "url": videos.feed}]
    defs = world.defs()

    result, cursor = world.tick(defs)
    keys = sorted(r.partition_key for r in result.run_requests)
    assert len(keys) == 3
    assert sorted(world.instance.get_dynamic_partitions("videos")) == keys
    assert {k.split(":")[0] for k in keys} == {"html5mediaembed", "localtube", "generic"}

    outcomes = {key: world.run_video(defs, key) for key in keys}
    succeeded = sorted(k for k, r in outcomes.items() if r.success)
    failed = [k for k, r in outcomes.items() if not r.success]
    assert len(succeeded) == 2 and len(failed) == 1 and failed[0].startswith("generic:no-captions~")
    report = _failure_message(outcomes[failed[0]])
    assert "no subtitles" in report and "offers no subtitles or captions" in report
    # The failing video only failed its document step; its download (info JSON) was recorded.
    bare = outcomes[failed[0]]
    assert [m.asset_key.to_user_string() for m in bare.get_asset_materialization_events()] == ["video_downloads"]

    sync = world.sync(defs)
    assert sync.success
    documents = world.documents()
    assert sorted(d["metadata"]["source_key"] for d in documents) == sorted(f"video/{k}" for k in succeeded)
    assert all(d["metadata"]["fingerprint"].startswith("sha256:") for d in documents)
    names = sorted(d["name"] for d in documents)
    assert names[0].startswith("Building a knowledge base from videos [localtube:auto1]")
    assert names[1].startswith("Release walkthrough")
    check = sync.get_asset_check_evaluations()[0]
    assert check.passed
    materialization = sync.get_asset_materialization_events()[0].materialization
    assert materialization.metadata["missing_documents"].value == 1
    table = materialization.metadata["videos"].value.records
    skipped = [r.data for r in table if r.data["status"] == "skipped: no document"]
    assert len(skipped) == 1 and "no subtitles" in skipped[0]["detail"]

    # Everything again: the sensor only re-reads the feed, each video is already in its archive, Dify is untouched.
    world.site.clear()
    world.standin.admin.clear_request_log()
    again, _ = world.tick(defs, cursor)
    assert "no new videos: 3 listed" in again.skip_message
    assert world.site.paths() == ["/feed.xml"]
    for key in keys:
        world.run_video(defs, key)
    assert world.site.paths() == ["/feed.xml"], "a re-run fetched from the site"
    assert world.sync(defs).success
    assert world.writes() == []


def test_each_video_shows_its_markdown_preview_and_what_was_downloaded(world):
    videos = publish_three_videos(world.site)
    world.sources = [{"name": "team", "url": videos.auto}]
    defs = world.defs()
    result, _ = world.tick(defs)
    (key,) = [r.partition_key for r in result.run_requests]
    assert key == "localtube:auto1"

    run = world.run_video(defs, key)
    assert run.success
    events = run.get_asset_materialization_events()
    by_asset = {m.asset_key.to_user_string(): m.materialization.metadata for m in events}
    download = by_asset["video_downloads"]
    assert download["status"].value == "downloaded"
    assert download["subtitle"].value == "en (automatic): subtitles.en.vtt"
    preview = by_asset["video_documents"]["preview"].value
    assert preview.startswith("# Building a knowledge base from videos\n")
    assert "- **Channel:** Local Channel" in preview
    assert "- **Uploaded:** 2026-03-01" in preview
    assert "- **Language:** en (automatic captions)" in preview
    assert preview.count("hi everyone and welcome back to the channel") == 1
    assert by_asset["video_documents"]["paragraphs"].value >= 2


def test_a_changed_transcript_updates_its_document_and_removed_videos_go_only_when_configured(world):
    videos = publish_three_videos(world.site)
    world.sources = [{"name": "team", "url": videos.feed}]
    defs = world.defs()
    result, cursor = world.tick(defs)
    keys = [r.partition_key for r in result.run_requests]
    for key in keys:
        world.run_video(defs, key)
    assert world.sync(defs).success
    before = {d["metadata"]["source_key"]: d for d in world.documents()}

    # The site corrects its subtitles: a refresh of that one video changes its document, the sync updates it.
    manual_key = next(k for k in keys if k.startswith("html5mediaembed:"))
    fixed = (world.site.root / "subs/manual.en.vtt").read_text().replace("Thanks for watching!", "See you soon!")
    world.site.write("subs/manual.en.vtt", fixed)
    assert world.run_video(defs, manual_key, refresh=True).success
    world.standin.admin.clear_request_log()
    assert world.sync(defs).success
    after = {d["metadata"]["source_key"]: d for d in world.documents()}
    changed = f"video/{manual_key}"
    assert after[changed]["id"] == before[changed]["id"]
    assert after[changed]["metadata"]["fingerprint"] != before[changed]["metadata"]["fingerprint"]
    assert [w["method"] for w in world.writes()] == ["POST"]  # one update by file, nothing else

    # The feed drops the auto-captioned video: its document stays until removal is switched on.
    world.site.feed("feed.xml", "Team videos", [{"title": "Release walkthrough", "link": videos.manual}])
    world.tick(defs, cursor)
    assert world.sync(defs).success
    assert len(world.documents()) == 2
    assert world.sync(world.defs(remove_missing_videos=True)).success
    assert [d["metadata"]["source_key"] for d in world.documents()] == [changed]


def test_downloads_and_documents_can_live_in_s3(world, s3_server, s3_client, bucket, s3_env):
    videos = publish_three_videos(world.site)
    world.sources = [{"name": "team", "url": videos.manual}]
    world.env.update(s3_env)
    world.top_level = {
        "s3": {
            "endpoint_url": s3_server.endpoint_url,
            "access_key_id": {"env": "AWS_ACCESS_KEY_ID"},
            "secret_access_key": {"env": "AWS_SECRET_ACCESS_KEY"},
        },
        "storage": {"kind": "s3", "bucket": bucket, "prefix": "difyops/"},
    }
    defs = world.defs()
    result, _ = world.tick(defs)
    (key,) = [r.partition_key for r in result.run_requests]
    assert world.run_video(defs, key).success
    assert world.sync(defs).success
    stored = sorted(o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"])
    folder = "difyops/video/" + key.replace(":", "/", 1)
    assert stored == [
        "difyops/video/catalog.json",
        f"{folder}/archive.txt",
        f"{folder}/document.json",
        f"{folder}/document.md",
        f"{folder}/download.json",
        f"{folder}/info.json",
        f"{folder}/subtitles.en.vtt",
    ]
    assert len(world.documents()) == 1


def test_the_dataset_sync_refuses_to_run_before_any_listing_and_touches_nothing(world):
    world.standin.admin.add_document(
        world.dataset_id, "Old [youtube:old].md", "# Old", metadata={"source_key": "video/youtube:old"}
    )
    world.sources = [{"name": "team", "url": world.site.url("feed.xml")}]
    result = world.sync(world.defs(remove_missing_videos=True))
    assert not result.success
    assert "no video catalog yet" in _failure_message(result)
    assert len(world.documents()) == 1
