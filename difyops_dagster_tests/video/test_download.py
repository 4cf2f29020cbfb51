"""Downloading one video with yt-dlp against real files on 127.0.0.1: the chosen subtitle track and nothing else,
the media only when kept, the video's own download archive so a re-run fetches nothing, errors that say whether a
retry can help, and secrets (cookies, proxy password) that never reach a log line or the stored info JSON.

The site's request log is the evidence of what yt-dlp fetched.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from difyops_dagster.storage.artifacts import LocalArtifactStore
from difyops_dagster.video.config import VideoSettings
from difyops_dagster.video.download import DownloadFailed, download_video
from difyops_dagster.video.library import VideoLibrary
from difyops_dagster.video.sources import expand_source
from difyops_dagster.video.ytdl import ScrubbingLogger, YtdlOptions
from difyops_dagster_tests.video.conftest import LOCALTUBE
from difyops_dagster_tests.video.sample_site import DATA, publish_three_videos

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class Fetcher:
    """Expands a URL to its one video and downloads it, the way the assets do, logging what yt-dlp said."""

    def __init__(self, tmp_path: Path, **video):
        self.settings = VideoSettings.model_validate(
            {
                "dataset_id": "0b1e0000-0000-4000-8000-000000000001",
                "sources": [{"name": "s", "url": "http://127.0.0.1/unused"}],
                "sleep_interval_s": 0,
                "retries": 0,
                "socket_timeout_s": 5,
                "extra_extractors": [LOCALTUBE],
                **video,
            }
        )
        self.library = VideoLibrary(LocalArtifactStore(tmp_path / "artifacts"), "video/")
        self.logs: list[tuple[str, str]] = []
        self.options = YtdlOptions(extra_extractors=(LOCALTUBE,), retries=0, socket_timeout_s=5)

    def log(self, level: str, message: str) -> None:
        self.logs.append((level, message))

    def ref(self, url: str, **source):
        source_settings = self.settings.sources[0].model_copy(update={"url": url, **source})
        expansion = expand_source(source_settings, self.options, self.log)
        assert expansion.error is None, expansion.error
        (ref,) = expansion.refs
        return ref, source_settings

    def fetch(self, url: str, refresh: bool = False, **source):
        ref, source_settings = self.ref(url, **source)
        return ref, download_video(
            ref, source_settings, self.settings, self.options, self.library, self.log, NOW, refresh=refresh
        )


def test_manual_subtitles_are_fetched_with_the_info_json_and_recorded_in_the_archive(site, tmp_path):
    videos = publish_three_videos(site)
    fetcher = Fetcher(tmp_path)
    ref, _ = fetcher.ref(videos.manual)
    site.clear()
    outcome = download_video(
        ref, fetcher.settings.sources[0], fetcher.settings, fetcher.options, fetcher.library, fetcher.log, NOW
    )
    record = outcome.record
    assert (record.status, record.subtitle, record.subtitle_kind) == ("downloaded", "subtitles.en.vtt", "manual")
    assert fetcher.library.get(ref.key, "subtitles.en.vtt") == (DATA / "manual.en.vtt").read_bytes()
    info = json.loads(fetcher.library.get(ref.key, "info.json"))
    assert info["id"] == "walkthrough-1" and info["extractor_key"] == "HTML5MediaEmbed"
    assert fetcher.library.archive(ref.key) == {"html5mediaembed walkthrough-1"}
    assert site.paths() == ["/walkthrough.html", "/subs/manual.en.vtt"]  # no media: the source does not keep it


def test_a_rerun_fetches_nothing_and_refresh_fetches_again(site, tmp_path):
    videos = publish_three_videos(site)
    fetcher = Fetcher(tmp_path)
    ref, first = fetcher.fetch(videos.auto)
    assert first.fetched and first.record.subtitle_kind == "automatic"
    site.clear()
    _, again = fetcher.fetch(videos.auto)
    assert not again.fetched and again.record == first.record
    assert site.paths() == ["/tube/watch-auto1.html"]  # the expansion above; the download itself asked nothing
    site.clear()
    outcome = download_video(
        ref, fetcher.settings.sources[0], fetcher.settings, fetcher.options, fetcher.library, fetcher.log, NOW,
        refresh=True,
    )  # fmt: skip
    assert outcome.fetched and site.paths() == ["/tube/watch-auto1.html", "/subs/auto.en.vtt"]


def test_a_manual_track_in_the_second_language_beats_automatic_captions_in_the_first(site, tmp_path):
    site.subtitle("subs/de.vtt", "manual.en.vtt")
    site.subtitle("subs/en-auto.vtt", "youtube_auto.en.vtt")
    site.media("tube/media/both.mp4")
    url = site.tube(
        "both",
        "Two tracks",
        "/tube/media/both.mp4",
        [
            {"baseUrl": "/subs/en-auto.vtt", "languageCode": "en", "kind": "asr"},
            {"baseUrl": "/subs/de.vtt", "languageCode": "de"},
        ],
    )
    fetcher = Fetcher(tmp_path)
    _, outcome = fetcher.fetch(url, subtitle_languages=["en", "de"])
    assert (outcome.record.subtitle_language, outcome.record.subtitle_kind) == ("de", "manual")
    assert "/subs/de.vtt" in site.paths() and "/subs/en-auto.vtt" not in site.paths()


def test_automatic_captions_refused_by_the_source_leave_a_reason_and_fetch_no_track(site, tmp_path):
    videos = publish_three_videos(site)
    fetcher = Fetcher(tmp_path)
    _, outcome = fetcher.fetch(videos.auto, accept_auto_captions=False)
    assert outcome.record.status == "no_subtitles"
    assert outcome.record.reason == "no subtitles in en; manual: none; automatic: en (not accepted by this source)"
    assert not any(p.startswith("/subs/") for p in site.paths())


def test_a_direct_media_file_is_kept_byte_for_byte_and_reported_without_subtitles(site, tmp_path):
    videos = publish_three_videos(site)
    fetcher = Fetcher(tmp_path)
    ref, outcome = fetcher.fetch(videos.bare, keep_media=True)
    assert ref.key.startswith("generic:no-captions~")
    assert outcome.record.status == "no_subtitles" and outcome.record.media == "media.mp4"
    assert fetcher.library.get(ref.key, "media.mp4") == site.clip.read_bytes()
    assert "offers no subtitles" in outcome.record.reason


def test_keeping_media_later_fetches_the_media_of_an_archived_video(site, tmp_path):
    videos = publish_three_videos(site)
    fetcher = Fetcher(tmp_path)
    fetcher.fetch(videos.manual)
    site.clear()
    _, outcome = fetcher.fetch(videos.manual, keep_media=True)
    assert outcome.fetched and outcome.record.media == "media.mp4"
    assert "/walkthrough.mp4" in site.paths()


def test_one_video_of_a_page_with_several_is_fetched_by_its_position(site, tmp_path):
    site.subtitle("subs/first.vtt", "manual.en.vtt")
    site.media("a.mp4")
    site.media("b.mp4")
    site.write(
        "two.html",
        '<html><head><title>Two talks</title></head><body><video src="a.mp4">'
        '<track kind="subtitles" srclang="en" src="subs/first.vtt"></video><video src="b.mp4"></video></body></html>',
    )
    fetcher = Fetcher(tmp_path)
    expansion = expand_source(
        fetcher.settings.sources[0].model_copy(update={"url": site.url("two.html")}), fetcher.options, fetcher.log
    )
    first, second = expansion.refs
    assert (first.playlist_index, second.playlist_index) == (1, 2)
    source = fetcher.settings.sources[0]
    one = download_video(first, source, fetcher.settings, fetcher.options, fetcher.library, fetcher.log, NOW)
    two = download_video(second, source, fetcher.settings, fetcher.options, fetcher.library, fetcher.log, NOW)
    assert (one.record.archive_id, one.record.status) == ("html5mediaembed two-1", "downloaded")
    assert (two.record.archive_id, two.record.status) == ("html5mediaembed two-2", "no_subtitles")


def test_a_missing_video_fails_for_good_and_a_refused_connection_may_be_retried(site, tmp_path):
    videos = publish_three_videos(site)
    fetcher = Fetcher(tmp_path)
    ref, source = fetcher.ref(videos.bare)
    (site.root / "talks/no-captions.mp4").unlink()
    with pytest.raises(DownloadFailed) as gone:
        download_video(ref, source, fetcher.settings, fetcher.options, fetcher.library, fetcher.log, NOW)
    assert not gone.value.retryable and "404" in str(gone.value)
    site.close()
    with pytest.raises(DownloadFailed) as down:
        download_video(ref, source, fetcher.settings, fetcher.options, fetcher.library, fetcher.log, NOW)
    assert down.value.retryable
    assert fetcher.library.record(ref.key) is None  # nothing recorded for a failed download


def test_cookies_are_sent_but_never_logged_stored_or_written_back(site, tmp_path):
    videos = publish_three_videos(site)
    cookies = tmp_path / "cookies.txt"
    content = "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tsecret-cookie-value\n"
    cookies.write_text(content)
    cookies.chmod(0o400)
    fetcher = Fetcher(tmp_path)
    fetcher.options = YtdlOptions(cookies_file=str(cookies), extra_extractors=(LOCALTUBE,), retries=0)
    ref, outcome = fetcher.fetch(videos.manual)
    assert outcome.record.status == "downloaded"
    assert any(r.cookie and "secret-cookie-value" in r.cookie for r in site.requests)
    stored = b"".join(fetcher.library.get(ref.key, n) or b"" for n in ("info.json", "download.json"))
    assert b"secret-cookie-value" not in stored
    assert not any("secret-cookie-value" in m or str(cookies) in m for _, m in fetcher.logs)
    assert cookies.read_text() == content
    assert "secret-cookie-value" not in repr(fetcher.options)


def test_a_proxy_password_never_appears_in_an_error_or_a_log_line(site, tmp_path):
    videos = publish_three_videos(site)
    fetcher = Fetcher(tmp_path)
    ref, source = fetcher.ref(videos.manual)
    fetcher.options = YtdlOptions(proxy="http://user:proxy-pass-123@127.0.0.1:9", retries=0, socket_timeout_s=2)
    with pytest.raises(DownloadFailed) as failed:
        download_video(ref, source, fetcher.settings, fetcher.options, fetcher.library, fetcher.log, NOW)
    assert "proxy" in str(failed.value).lower()
    assert "proxy-pass-123" not in str(failed.value)
    assert not any("proxy-pass-123" in m for _, m in fetcher.logs)


def test_the_logger_masks_secret_values_and_credentials_in_urls():
    seen = []
    logger = ScrubbingLogger(
        lambda level, m: seen.append((level, m)), ("/run/secrets/cookies.txt", "http://u:p4ss@px:1")
    )
    logger.warning("\x1b[0;33mWARNING:\x1b[0m cannot read /run/secrets/cookies.txt via http://u:p4ss@px:1")
    logger.error("proxy http://other:hunter22@proxy.example:8080 refused")
    logger.debug("[debug] Proxy map: {'all': 'http://u:p4ss@px:1'}")
    assert seen == [
        ("warning", "WARNING: cannot read *** via ***"),
        ("error", "proxy http://***@proxy.example:8080 refused"),
    ]


def test_an_html5_captions_track_counts_as_manual_because_yt_dlp_reports_it_so(site, tmp_path):
    """yt-dlp's HTML5 extractor files `<track kind="captions">` under `subtitles` like `kind="subtitles"`: a page
    cannot say "automatic", so such a track is used even by a source that refuses automatic captions."""
    site.subtitle("subs/cc.vtt", "manual.en.vtt")
    site.media("cc.mp4")
    url = site.page("cc.html", "Captioned", "cc.mp4", [("captions", "en", "subs/cc.vtt")])
    fetcher = Fetcher(tmp_path)
    _, outcome = fetcher.fetch(url, accept_auto_captions=False)
    assert (outcome.record.status, outcome.record.subtitle_kind) == ("downloaded", "manual")
