"""A local video site and a video world over it, for tests that let yt-dlp do real extraction without internet.

`site`: real media made with ffmpeg (once per session), subtitle files from `data/`, HTML pages, an RSS feed and
LocalTube watch pages (localtube.py), served by `http.server` in a thread on 127.0.0.1. Every request is logged
(method, path, Cookie header), so a test can prove what was fetched, and that nothing was.

`world`: that site, the Dify stand-in with one dataset, settings and Definitions, and a throwaway instance.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import dagster as dg
import pytest

from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import Settings, parse_settings

DATA = Path(__file__).parent / "data"
KEY_VAR = "DIFYOPS_TEST_DATASET_KEY"
LOCALTUBE = "difyops_dagster_tests.video.localtube:LocalTubeIE"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    cookie: str | None


class _Handler(http.server.SimpleHTTPRequestHandler):
    log: list[Request]
    lock: threading.Lock

    def _record(self) -> None:
        with self.lock:
            self.log.append(Request(self.command, self.path, self.headers.get("Cookie")))

    def do_GET(self) -> None:
        self._record()
        super().do_GET()

    def do_HEAD(self) -> None:
        self._record()
        super().do_HEAD()

    def log_message(self, format: str, *args: Any) -> None:
        return None


class MediaSite:
    """Files under `root`, served at `base_url`; helpers write the pages the tests need."""

    def __init__(self, root: Path, clip: Path):
        self.root = root
        self.clip = clip
        self.requests: list[Request] = []
        lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"log": self.requests, "lock": lock})
        self._server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
        )
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def clear(self) -> None:
        self.requests.clear()

    def write(self, path: str, content: str | bytes) -> str:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        return self.url(path)

    def media(self, path: str) -> str:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.clip, target)
        return self.url(path)

    def subtitle(self, path: str, fixture: str) -> str:
        return self.write(path, (DATA / fixture).read_bytes())

    def page(self, path: str, title: str, media: str, tracks: list[tuple[str, str, str]] = ()) -> str:
        """An HTML page with one `<video>` and `<track kind srclang src>` elements."""
        track_tags = "".join(f'<track kind="{k}" srclang="{lang}" src="{src}">' for k, lang, src in tracks)
        html = (
            f"<!DOCTYPE html><html><head><title>{escape(title)}</title></head><body>"
            f'<h1>{escape(title)}</h1><video controls src="{media}">{track_tags}</video></body></html>'
        )
        return self.write(path, html)

    def tube(self, video_id: str, title: str, media: str, captions: list[dict], **details: Any) -> str:
        """A LocalTube watch page: `captions` are {baseUrl, languageCode, kind?} like YouTube's captionTracks."""
        player = {
            "videoDetails": {"videoId": video_id, "title": title, **details},
            "streamingData": {"formats": [{"url": media, "mimeType": "video/mp4"}]},
            "captions": {"captionTracks": captions},
        }
        html = (
            f"<!DOCTYPE html><html><head><title>{escape(title)} - LocalTube</title></head><body>"
            f"<script>var playerResponse = {json.dumps(player)};</script></body></html>"
        )
        return self.write(f"tube/watch-{video_id}.html", html)

    def feed(self, path: str, title: str, items: list[dict]) -> str:
        """An RSS 2.0 feed; each item has `title` and a `link` or an `enclosure` URL."""
        entries = []
        for item in items:
            body = f"<title>{escape(item['title'])}</title>"
            if "link" in item:
                body += f"<link>{escape(item['link'])}</link>"
            if "enclosure" in item:
                body += f'<enclosure url="{escape(item["enclosure"])}" type="video/mp4" length="1"/>'
            entries.append(f"<item>{body}</item>")
        rss = (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{escape(title)}</title><description>test feed</description>{''.join(entries)}</channel></rss>"
        )
        return self.write(path, rss)


@pytest.fixture(scope="session")
def clip_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-second 160x120 H.264/AAC clip (about 30 KB), made once per session."""
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-f", "lavfi",
         "-i", "sine=frequency=440", "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-shortest", str(path)],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path


@pytest.fixture
def site(clip_file: Path, tmp_path: Path) -> Iterator[MediaSite]:
    served = MediaSite(tmp_path / "site", clip_file)
    try:
        yield served
    finally:
        served.close()


@dataclass(frozen=True)
class ThreeVideos:
    """One feed listing three videos: manual subtitles, only automatic captions, none at all."""

    feed: str
    manual: str
    auto: str
    bare: str


def publish_three_videos(site: MediaSite) -> ThreeVideos:
    site.subtitle("subs/manual.en.vtt", "manual.en.vtt")
    site.subtitle("subs/auto.en.vtt", "youtube_auto.en.vtt")
    manual = site.page(
        "walkthrough.html", "Release walkthrough", "walkthrough.mp4", [("subtitles", "en", "subs/manual.en.vtt")]
    )
    site.media("walkthrough.mp4")
    site.media("tube/media/auto1.mp4")
    auto = site.tube(
        "auto1",
        "Building a knowledge base from videos",
        "/tube/media/auto1.mp4",
        [{"baseUrl": "/subs/auto.en.vtt", "languageCode": "en", "kind": "asr", "name": "English (auto-generated)"}],
        author="Local Channel",
        lengthSeconds="67",
        uploadDate="20260301",
        shortDescription="How captions become documents.",
    )
    bare = site.media("talks/no-captions.mp4")
    feed = site.feed(
        "feed.xml",
        "Team videos",
        [
            {"title": "Release walkthrough", "link": manual},
            {"title": "Building a knowledge base", "link": auto},
            {"title": "A talk without captions", "enclosure": bare},
        ],
    )
    return ThreeVideos(feed, manual, auto, bare)


@dataclass
class VideoWorld:
    standin: Any
    site: MediaSite
    dataset_id: str
    env: dict
    artifacts_dir: str
    instance: dg.DagsterInstance
    sources: list[dict] = field(default_factory=list)
    top_level: dict = field(default_factory=dict)  # e.g. `s3` and `storage` for artifacts in a bucket

    def config(self, **video: Any) -> dict:
        return {
            "dify": {
                "base_url": self.standin.api_url,
                "dataset_api_key": {"env": KEY_VAR},
                "max_retries": 1,
                "backoff_factor_s": 0.01,
                "rate_limit_per_second": 0,
            },
            "storage": {"kind": "local", "local_dir": self.artifacts_dir},
            "video": {
                "dataset_id": self.dataset_id,
                "sources": self.sources,
                "sleep_interval_s": 0,
                "retries": 0,
                "socket_timeout_s": 10,
                "extra_extractors": [LOCALTUBE],
                "indexing_poll_s": 0.05,
                "indexing_timeout_s": 20,
                "paragraph_seconds": 30,
                **video,
            },
            **self.top_level,
        }

    def settings(self, **video: Any) -> Settings:
        return parse_settings(self.config(**video), self.env)

    def defs(self, **video: Any) -> dg.Definitions:
        return build_definitions(self.settings(**video))

    def tick(self, defs: dg.Definitions, cursor: str | None = None):
        """One sensor evaluation; the partitions it asks for are added, as the daemon would."""
        sensor = defs.resolve_sensor_def("video_sources_sensor")
        resources = {k: defs.resources[k] for k in ("artifacts", "video_site_access")}
        with dg.build_sensor_context(instance=self.instance, cursor=cursor, resources=resources) as context:
            result = sensor(context)
            if not isinstance(result, dg.SensorResult):
                return result, context.cursor
        for request in result.dynamic_partitions_requests or []:
            self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        return result, result.cursor

    def run_video(self, defs: dg.Definitions, key: str, refresh: bool = False) -> dg.ExecuteInProcessResult:
        run_config = {"ops": {"video_downloads": {"config": {"refresh": True}}}} if refresh else None
        job = defs.resolve_job_def("video_job")
        return job.execute_in_process(
            partition_key=key, instance=self.instance, run_config=run_config, raise_on_error=False
        )

    def sync(self, defs: dg.Definitions) -> dg.ExecuteInProcessResult:
        job = defs.resolve_job_def("video_dataset_job")
        return job.execute_in_process(instance=self.instance, raise_on_error=False)

    def documents(self) -> list[dict]:
        return self.standin.admin.documents(self.dataset_id)

    def writes(self) -> list[dict]:
        return [
            r
            for r in self.standin.admin.request_log()
            if r["method"] in ("POST", "PATCH", "DELETE") and "/metadata" not in r["path"]
        ]


@pytest.fixture
def world(standin, site, monkeypatch, tmp_path) -> Iterator[VideoWorld]:
    env = {KEY_VAR: standin.dataset_key}
    monkeypatch.setenv(KEY_VAR, standin.dataset_key)
    dataset_id = standin.admin.create_dataset("videos")["id"]
    with dg.instance_for_test() as instance:
        yield VideoWorld(standin, site, dataset_id, env, str(tmp_path / "artifacts"), instance)
