"""The catalog: which videos each source lists now, and how to fetch every video ever listed.

The sensor rewrites it after each expansion; the download asset reads a partition's `VideoRef` from it (a
partition key is not a URL), and the dataset sync reads which videos are current. A source that could not be
read keeps the videos it listed before (a site outage must not look like every video was removed); a source
removed from the settings lists nothing any more. Refs of videos no longer listed stay, so an old partition
can still be materialized from the UI. Pure: the caller reads and writes the JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from difyops_dagster.video.sources import SourceExpansion, VideoRef

VERSION = 1


@dataclass(frozen=True, slots=True)
class SourceState:
    name: str
    keys: tuple[str, ...]
    checked_at: str
    error: str | None = None


@dataclass(frozen=True)
class Catalog:
    videos: Mapping[str, VideoRef] = field(default_factory=dict)
    sources: Mapping[str, SourceState] = field(default_factory=dict)

    def current_keys(self) -> tuple[str, ...]:
        """Keys some source lists now, in source order, each once."""
        seen: dict[str, None] = {}
        for state in self.sources.values():
            seen.update(dict.fromkeys(state.keys))
        return tuple(seen)

    def same_listing(self, other: Catalog) -> bool:
        """Equal but for when the sources were checked (a tick that found nothing new rewrites nothing)."""
        return self.videos == other.videos and {n: (s.keys, s.error) for n, s in self.sources.items()} == {
            n: (s.keys, s.error) for n, s in other.sources.items()
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "sources": {
                name: {"keys": list(s.keys), "checked_at": s.checked_at, "error": s.error}
                for name, s in self.sources.items()
            },
            "videos": {key: ref.to_json() for key, ref in sorted(self.videos.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Catalog:
        if not data:
            return cls()
        sources = {
            name: SourceState(name, tuple(s.get("keys") or ()), s.get("checked_at") or "", s.get("error"))
            for name, s in (data.get("sources") or {}).items()
        }
        videos = {key: VideoRef.from_json(ref) for key, ref in (data.get("videos") or {}).items()}
        return cls(videos, sources)


def update_catalog(catalog: Catalog, expansions: Iterable[SourceExpansion], now: datetime) -> Catalog:
    """The catalog after one expansion of every configured source (in settings order).

    A failed source keeps its previous keys; the refs of those videos stay as they were."""
    videos = dict(catalog.videos)
    sources: dict[str, SourceState] = {}
    listed_now: set[str] = set()
    stamp = now.isoformat()
    for expansion in expansions:
        previous = catalog.sources.get(expansion.source)
        if expansion.error is not None:
            keys = previous.keys if previous else ()
            sources[expansion.source] = SourceState(expansion.source, keys, stamp, expansion.error)
            continue
        for ref in expansion.refs:
            # A video listed by several sources is fetched with the options of the first one (settings order).
            if ref.key not in listed_now:
                videos[ref.key] = ref
                listed_now.add(ref.key)
        sources[expansion.source] = SourceState(expansion.source, tuple(r.key for r in expansion.refs), stamp)
    return Catalog(videos, sources)


def new_keys(catalog: Catalog, existing: Iterable[str]) -> list[str]:
    """Current keys that are not partitions yet, in catalog order."""
    have = set(existing)
    return [key for key in catalog.current_keys() if key not in have]


def resolution_cache(catalog: Catalog, resolved: Mapping[str, str]) -> dict[str, VideoRef]:
    """Entry URL -> ref, for the entries the cursor remembers and the catalog still knows."""
    return {url: catalog.videos[key] for url, key in resolved.items() if key in catalog.videos}
