"""Which S3 objects become documents: accepted by type and size, or rejected with the reason. Pure.

Rejected objects are kept with their reason (listed in the UI, never silently dropped). Folder markers (keys
ending in `/`) and the sync's own state object are not documents and are skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from difyops_dagster.storage.s3_listing import S3Object
from difyops_dagster.sync.fingerprint import object_fingerprint
from difyops_dagster.sync.models import DatasetDocument, RejectedObject, SourceItem, SourceListing
from difyops_dagster.sync.naming import document_name

PREVIEW_ROWS = 200


def listing_digest(sources: Iterable[SourceItem]) -> tuple[str, int]:
    """Digest and count of the accepted objects (SHA-256 over key and fingerprint, in listing order, which S3
    gives in key order). Every addition, change (the ETag moves, even at the same size) and deletion moves it;
    rejected objects do not (they never reach a dataset). The sensor compares it between ticks, and each colour
    change records the digest the colour was synced from."""
    return _digest((source.source_key, source.fingerprint) for source in sources)


def dataset_digest(documents: Iterable[DatasetDocument]) -> str | None:
    """The `listing_digest` of the bucket a dataset mirrors exactly, or None when it mirrors none: a document is
    untagged, not served, or not indexed. Keys sort by code point, which is the UTF-8 byte order S3 lists in."""
    pairs = []
    for document in documents:
        if document.source_key is None or document.fingerprint is None or not document.available:
            return None
        pairs.append((document.source_key, document.fingerprint))
    return _digest(sorted(pairs))[0]


def _digest(pairs: Iterable[tuple[str, str]]) -> tuple[str, int]:
    digest = hashlib.sha256()
    count = 0
    for key, fingerprint in pairs:
        digest.update(f"{key}\0{fingerprint}\n".encode())
        count += 1
    return digest.hexdigest(), count


def rejection_reason(obj: S3Object, accepted_extensions: frozenset[str], max_bytes: int) -> str | None:
    filename = obj.key.rsplit("/", 1)[-1]
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename.strip(".") else ""
    if not extension:
        return "type not supported: no file extension"
    if extension not in accepted_extensions:
        return f"type not supported: .{extension}"
    if obj.size == 0:
        return "empty file"
    if obj.size > max_bytes:
        return f"too large: {obj.size:,} bytes > {max_bytes:,}"
    if any(ord(c) < 32 or ord(c) == 127 for c in obj.key):
        return "key contains control characters (Dify would refuse the name)"
    return None


def classify_objects(
    objects: Iterable[S3Object],
    *,
    prefix: str,
    accepted_extensions: Iterable[str],
    max_bytes: int,
    exclude: Iterable[str] = (),
    preview_rows: int = PREVIEW_ROWS,
) -> tuple[SourceListing, list[dict[str, Any]]]:
    """Split a streamed listing into source items and rejected objects, plus the first rows for the UI."""
    allowed = frozenset(e.lower() for e in accepted_extensions)
    skipped = frozenset(exclude)
    accepted: list[SourceItem] = []
    rejected: list[RejectedObject] = []
    preview: list[dict[str, Any]] = []
    for obj in objects:
        if obj.key in skipped or obj.key.endswith("/"):
            continue
        reason = rejection_reason(obj, allowed, max_bytes)
        if reason:
            rejected.append(RejectedObject(obj.key, obj.size, reason))
        else:
            fingerprint = object_fingerprint(obj.etag, obj.size)
            accepted.append(SourceItem(obj.key, fingerprint, document_name(obj.key, prefix), obj.size))
        if len(preview) < preview_rows:
            preview.append(
                {
                    "key": obj.key,
                    "size": obj.size,
                    "etag": obj.etag,
                    "last_modified": obj.last_modified.isoformat(timespec="seconds"),
                    "accepted": "yes" if reason is None else "no",
                    "reason": reason or "",
                }
            )
    return SourceListing(tuple(accepted), tuple(rejected)), preview
