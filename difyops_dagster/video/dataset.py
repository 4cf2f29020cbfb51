"""The video documents as the sync engine's sources, and which dataset documents the video sync may touch.

The dataset sync is the S3 sync's engine (sync/plan.py, sync/apply.py): the same plan, the same `source_key` +
`fingerprint` metadata, the same repairs. What is video-specific is only the input:
- each current video with a document is a `SourceItem`: `source_key` `video/<partition key>`, the SHA-256 of
  the Markdown as fingerprint, and a readable document name `<title> [<partition key>].md`;
- a current video without a document (no subtitles, not downloaded yet, failed) is reported as missing, and its
  existing Dify document, if any, is left as it is;
- the dataset may hold documents that are not ours (uploaded by hand, another feed): only documents whose
  `source_key` starts with `video/`, and untagged ones carrying one of our names (an upload interrupted before
  tagging, which the plan repairs), are handed to the plan. Documents of videos no source lists any more are
  deleted only with `remove_missing_videos` (the plan's `mirror` over that subset).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from difyops_dagster.sync.fingerprint import content_fingerprint
from difyops_dagster.sync.models import DatasetDocument, SourceItem
from difyops_dagster.sync.naming import document_name
from difyops_dagster.video.catalog import Catalog
from difyops_dagster.video.library import VideoLibrary

SOURCE_KEY_PREFIX = "video/"
MAX_TITLE = 120


@dataclass(frozen=True, slots=True)
class MissingDocument:
    key: str
    title: str | None
    reason: str


@dataclass(frozen=True)
class VideoSources:
    items: tuple[SourceItem, ...]
    missing: tuple[MissingDocument, ...]


def source_key(key: str) -> str:
    return SOURCE_KEY_PREFIX + key


def video_document_name(key: str, title: str | None) -> str:
    """`<title> [<key>].md`: readable in Dify's list, unique through the key (Dify upserts by name)."""
    clean = " ".join((title or "").split())[:MAX_TITLE].strip()
    return document_name(f"{clean} [{key}].md" if clean else f"{key}.md")


def video_source_item(key: str, title: str | None, markdown: bytes) -> SourceItem:
    return SourceItem(
        source_key=source_key(key),
        fingerprint=content_fingerprint(markdown),
        document_name=video_document_name(key, title),
        size=len(markdown),
    )


def collect_sources(catalog: Catalog, library: VideoLibrary) -> VideoSources:
    """Every current video's document as a source item (from its small sidecar), and the missing ones with why."""
    items: list[SourceItem] = []
    missing: list[MissingDocument] = []
    for key in catalog.current_keys():
        ref = catalog.videos.get(key)
        title = ref.title if ref else None
        sidecar = library.document_summary(key)
        if sidecar is not None:
            items.append(
                SourceItem(
                    source_key=source_key(key),
                    fingerprint=sidecar["fingerprint"],
                    document_name=video_document_name(key, sidecar.get("title") or title),
                    size=int(sidecar.get("size") or 0),
                )
            )
            continue
        record = library.record(key)
        if record is None:
            reason = "not downloaded yet (its video_downloads partition has not run)"
        elif record.status == "no_subtitles":
            reason = record.reason or "no subtitles"
        else:
            reason = "downloaded, but no document yet (its video_documents partition has not run or failed)"
        missing.append(MissingDocument(key, title, reason))
    return VideoSources(tuple(items), tuple(missing))


def load_checked(library: VideoLibrary, item: SourceItem) -> bytes:
    """The document's bytes, refusing content that is not what the plan fingerprinted (rewritten meanwhile)."""
    key = item.source_key[len(SOURCE_KEY_PREFIX) :]
    content = library.document(key)
    if content is None:
        raise FileNotFoundError(f"{key}: document.md is gone")
    if content_fingerprint(content) != item.fingerprint:
        raise ValueError(f"{key}: the document changed while the sync ran; the next sync uploads the new one")
    return content


def owned_documents(
    documents: Iterable[DatasetDocument], sources: VideoSources, remove_missing: bool
) -> tuple[DatasetDocument, ...]:
    """The dataset documents the video sync plans over (see the module docstring). The plan then mirrors the
    sources over exactly this subset: what is not in it is never touched."""
    names = {item.document_name for item in sources.items}
    keys = {item.source_key for item in sources.items}
    keep_as_is = {source_key(m.key) for m in sources.missing}
    owned = []
    for document in documents:
        key = document.source_key
        if key is None:
            ours = document.name in names
        else:
            ours = key.startswith(SOURCE_KEY_PREFIX) and key not in keep_as_is and (remove_missing or key in keys)
        if ours:
            owned.append(document)
    return tuple(owned)


def document_summary(title: str, markdown: bytes) -> Mapping[str, object]:
    """The sidecar `video_documents` writes next to the document, so the sync reads no Markdown it need not."""
    return {
        "title": title,
        "fingerprint": content_fingerprint(markdown),
        "size": len(markdown),
    }
