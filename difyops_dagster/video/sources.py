"""From configured sources to videos: yt-dlp expands each URL (playlists flat) into `VideoRef`s, one per partition.

The partition key is yt-dlp's extractor and id, made collision-proof. yt-dlp's own identity (its download
archive writes `<extractor> <id>`) is unique for real sites (a YouTube id is a YouTube id), but the generic and
HTML5 extractors derive the id from the URL's file stem: `https://a.example/clip.mp4` and
`https://b.example/clip.mp4` are both `generic clip`, and every `index.html` page with one video is `index-1`.
For those, and for ids whose characters Dagster or a storage path would not take, the key carries a short hash
of the original identity. Keys match `[A-Za-z0-9._:~-]`, never contain `...`, and stay under 120 characters.

Flat playlist entries from real sites carry extractor and id; entries that carry only a URL (RSS items, links)
are resolved once with one metadata request each, and the answers are cached by the caller (the sensor keeps
them in its cursor), so a tick over a known playlist makes one request per source.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from yt_dlp.utils import DownloadError

from difyops_dagster.video.config import VideoSettings, VideoSourceSettings
from difyops_dagster.video.ytdl import Log, YtdlOptions, open_ytdl, scrub

# Extractors whose ids are only a file stem (or a stem and an index): their keys include a hash of the URL.
URL_DERIVED_IDS = frozenset({"generic", "html5mediaembed"})
SAFE_ID = re.compile(r"[^A-Za-z0-9._-]")
MAX_ID = 80
HASH_CHARS = 8
MAX_DEPTH = 2
URL_TYPES = ("url", "url_transparent")


@dataclass(frozen=True, slots=True)
class VideoRef:
    """One video: its partition key, how to fetch it again, and which source listed it first.

    `playlist_index` is set for a video that exists only as the n-th entry of a page with several videos
    (its own URL would give yt-dlp the whole page).
    """

    key: str
    url: str
    extractor_key: str
    video_id: str
    source: str
    title: str | None = None
    playlist_index: int | None = None

    @property
    def archive_id(self) -> str:
        """The line yt-dlp's download archive holds for this video."""
        return f"{self.extractor_key.lower()} {self.video_id}"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "url": self.url,
            "extractor_key": self.extractor_key,
            "video_id": self.video_id,
            "source": self.source,
            "title": self.title,
            "playlist_index": self.playlist_index,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VideoRef:
        return cls(**{k: data.get(k) for k in cls.__slots__})


@dataclass(frozen=True)
class SourceExpansion:
    """The videos one source lists now, or the reason it could not be read (then `refs` is empty).

    `resolved` maps each entry URL that needed a request of its own to the key it resolved to (a cache for the
    next expansion)."""

    source: str
    refs: tuple[VideoRef, ...] = ()
    error: str | None = None
    resolved: Mapping[str, str] = field(default_factory=dict)


def partition_key(extractor_key: str, video_id: str, url: str) -> str:
    """`<extractor>:<id>`, plus `~<hash>` when the id is URL-derived, unsafe or too long."""
    extractor = SAFE_ID.sub("_", extractor_key.lower())
    safe = SAFE_ID.sub("_", video_id)
    while ".." in safe:
        safe = safe.replace("..", "._")
    needs_hash = extractor in URL_DERIVED_IDS or safe != video_id or len(safe) > MAX_ID or not safe
    if not needs_hash:
        return f"{extractor}:{safe}"
    identity = f"{extractor}\n{video_id}\n{url if extractor in URL_DERIVED_IDS else ''}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:HASH_CHARS]
    return f"{extractor}:{safe[:MAX_ID]}~{digest}"


def make_ref(info: Mapping[str, Any], url: str, source: str, playlist_index: int | None = None) -> VideoRef:
    """A ref from a (resolved) yt-dlp info dict; `url` is what will be handed to yt-dlp to fetch it again."""
    extractor_key = str(info.get("extractor_key") or info.get("ie_key"))
    video_id = str(info["id"])
    identity_url = url if playlist_index is None else f"{url}#{playlist_index}"
    return VideoRef(
        key=partition_key(extractor_key, video_id, identity_url),
        url=url,
        extractor_key=extractor_key,
        video_id=video_id,
        source=source,
        title=info.get("title"),
        playlist_index=playlist_index,
    )


def is_reference(entry: Mapping[str, Any]) -> bool:
    """A flat entry that points at a video yt-dlp has not extracted yet."""
    return entry.get("_type") in URL_TYPES


def entry_identity(entry: Mapping[str, Any]) -> tuple[str, str] | None:
    """(extractor key, id) when a flat entry already says which video it is (YouTube, Vimeo, ... playlists)."""
    extractor = entry.get("ie_key") or entry.get("extractor_key")
    if extractor and entry.get("id") and extractor.lower() not in URL_DERIVED_IDS:
        return str(extractor), str(entry["id"])
    return None


Resolver = Callable[[str, int], list[VideoRef]]


def refs_from_info(
    info: Mapping[str, Any],
    source: VideoSourceSettings,
    resolve: Resolver,
    depth: int = 0,
    fetch_url: str | None = None,
) -> list[VideoRef]:
    """The videos an extracted (flat) result lists, in the site's order, at most `source.max_videos`.

    `fetch_url` is the URL the result was extracted from when it was a playlist entry: it is kept as is
    (an RSS item's URL carries its guid, which yt-dlp uses as the id), not replaced by the page it led to."""
    if info.get("_type") != "playlist":
        if is_reference(info):
            return resolve(str(info["url"]), depth + 1)
        url = fetch_url or str(info.get("webpage_url") or info.get("original_url") or source.url)
        return [make_ref(info, url, source.name)]
    page_url = str(info.get("webpage_url") or info.get("original_url") or source.url)
    refs: list[VideoRef] = []
    for position, entry in enumerate(info.get("entries") or [], start=1):
        if source.max_videos is not None and len(refs) >= source.max_videos:
            break
        if entry is None:
            continue
        if is_reference(entry):
            identity = entry_identity(entry)
            if identity is not None:
                url = str(entry.get("url") or entry.get("webpage_url"))
                refs.append(make_ref({"extractor_key": identity[0], "id": identity[1], **entry}, url, source.name))
            elif depth < MAX_DEPTH:
                refs.extend(resolve(str(entry["url"]), depth + 1))
        elif entry.get("_type") == "playlist":
            if depth < MAX_DEPTH:
                refs.extend(refs_from_info(entry, source, resolve, depth + 1))
        else:
            index = int(entry.get("playlist_index") or position)
            refs.append(make_ref(entry, page_url, source.name, playlist_index=index))
    return refs[: source.max_videos] if source.max_videos is not None else refs


def expand_source(
    source: VideoSourceSettings,
    options: YtdlOptions,
    log: Log,
    known: Mapping[str, VideoRef] | None = None,
) -> SourceExpansion:
    """Ask yt-dlp what `source` lists now. `known` maps an entry URL to the ref it resolved to before."""
    known = known or {}
    resolved: dict[str, str] = {}
    params: dict[str, Any] = {"extract_flat": "in_playlist", "skip_download": True}
    if source.max_videos is not None:
        params["playlistend"] = source.max_videos
    try:
        with open_ytdl(options, log, **params) as ydl:

            def resolve(url: str, depth: int) -> list[VideoRef]:
                if url in known:
                    ref = replace(known[url], source=source.name)
                    resolved[url] = ref.key
                    return [ref]
                info = ydl.extract_info(url, download=False)
                found = refs_from_info(ydl.sanitize_info(info), source, resolve, depth, fetch_url=url)
                if len(found) == 1:
                    resolved[url] = found[0].key
                return found

            info = ydl.extract_info(source.url, download=False)
            refs = refs_from_info(ydl.sanitize_info(info), source, resolve)
    except (DownloadError, ValueError) as exc:
        return SourceExpansion(source.name, (), scrub(str(exc), options.secrets()).removeprefix("ERROR: "))
    unique: dict[str, VideoRef] = {}
    for ref in refs:
        unique.setdefault(ref.key, ref)
    return SourceExpansion(source.name, tuple(unique.values()), resolved=resolved)


def expand_sources(
    settings: VideoSettings, options: YtdlOptions, log: Log, known: Mapping[str, VideoRef] | None = None
) -> tuple[SourceExpansion, ...]:
    """Every source, each on its own: one unreadable source never hides the others' videos."""
    return tuple(expand_source(source, options, log, known) for source in settings.sources)


def merge_expansions(expansions: Iterable[SourceExpansion]) -> dict[str, VideoRef]:
    """key -> ref over all sources; a video listed by several sources belongs to the first one listing it."""
    merged: dict[str, VideoRef] = {}
    for expansion in expansions:
        for ref in expansion.refs:
            merged.setdefault(ref.key, ref)
    return merged
