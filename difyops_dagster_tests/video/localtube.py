"""LocalTube: a yt-dlp extractor for the test site's `/tube/watch-<id>.html` pages, which mimic a YouTube watch page.

Why it exists: the only extractors yt-dlp can use on 127.0.0.1 are the generic and HTML5 ones, and those put
every `<track>` (kind `subtitles` or `captions` alike) into `subtitles`; only site extractors (YouTube, Udemy,
Facebook, ...) fill `automatic_captions`, and none of them can be pointed at a local server. So the test site
has a page shaped like a YouTube watch page (an embedded player response whose caption tracks carry
`kind: "asr"` for speech recognition, exactly the marker YouTube uses), and this extractor reads it the way
yt-dlp's YouTube extractor does. It is registered through `video.extra_extractors`, the same setting an
operator uses for an in-house video site. Subtitle choice, downloading, the archive and the info JSON remain
yt-dlp's own code.
"""

from __future__ import annotations

from urllib.parse import urljoin

from yt_dlp.extractor.common import InfoExtractor
from yt_dlp.utils import determine_ext, int_or_none


class LocalTubeIE(InfoExtractor):
    IE_NAME = "localtube"
    _VALID_URL = r"https?://127\.0\.0\.1:\d+/tube/watch-(?P<id>[\w-]+)\.html"

    def _real_extract(self, url):
        video_id = self._match_id(url)
        page = self._download_webpage(url, video_id)
        player = self._search_json(r"var\s+playerResponse\s*=", page, "player response", video_id)
        details = player["videoDetails"]
        subtitles: dict = {}
        automatic: dict = {}
        for track in player.get("captions", {}).get("captionTracks", []):
            target = automatic if track.get("kind") == "asr" else subtitles
            track_url = urljoin(url, track["baseUrl"])
            target.setdefault(track["languageCode"], []).append(
                {"url": track_url, "ext": determine_ext(track_url), "name": track.get("name")}
            )
        return {
            "id": video_id,
            "title": details["title"],
            "channel": details.get("author"),
            "uploader": details.get("author"),
            "description": details.get("shortDescription"),
            "duration": int_or_none(details.get("lengthSeconds")),
            "upload_date": details.get("uploadDate"),
            "chapters": [
                {"start_time": c["start"], "end_time": c["end"], "title": c["title"]}
                for c in details.get("chapters", [])
            ],
            "formats": [
                {"url": urljoin(url, f["url"]), "ext": "mp4", "format_id": str(i)}
                for i, f in enumerate(player["streamingData"]["formats"])
            ],
            "subtitles": subtitles,
            "automatic_captions": automatic,
        }
