"""The sample video site: real media, subtitle files, HTML pages, an RSS feed and LocalTube pages on 127.0.0.1.

The tests serve it per test (`site` fixture); the demo serves it with
`python -m difyops_dagster_tests.video.sample_site --port 8765` so `config/demo.yaml`'s video source has three
videos to find: one with manual subtitles, one with only automatic captions, one with none. Every request is
logged (method, path, Cookie header), so a test can prove what yt-dlp fetched.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

DATA = Path(__file__).parent / "data"


def make_clip(path: Path) -> Path:
    """A 2-second 160x120 H.264/AAC clip (about 30 KB) with a test pattern and a tone."""
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-f", "lavfi",
         "-i", "sine=frequency=440", "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-shortest", str(path)],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path


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

    def __init__(self, root: Path, clip: Path, port: int = 0):
        self.root = root
        self.clip = clip
        self.requests: list[Request] = []
        lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"log": self.requests, "lock": lock})
        self._server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", port), functools.partial(handler, directory=str(root))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # how the demo stops it: the files go too
    with tempfile.TemporaryDirectory(prefix="difyops-sample-videos-") as scratch:
        root = Path(scratch)
        site = MediaSite(root / "site", make_clip(root / "clip.mp4"), args.port)
        videos = publish_three_videos(site)
        print(f"sample videos: feed at {videos.feed} (Ctrl-C stops)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            site.close()


if __name__ == "__main__":
    main()
