"""Which S3 objects become documents: accepted by type and size, or rejected with the reason. Pure."""

from __future__ import annotations

from collections.abc import Iterable

from difyops_dagster.storage.s3_listing import S3Object
from difyops_dagster.sync.fingerprint import object_fingerprint
from difyops_dagster.sync.models import RejectedObject, SourceItem, SourceListing
from difyops_dagster.sync.naming import document_name


def rejection_reason(obj: S3Object, accepted_extensions: Iterable[str], max_bytes: int) -> str | None:
    filename = obj.key.rsplit("/", 1)[-1]
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if not extension:
        return "no file extension"
    if extension not in accepted_extensions:
        return f"type not supported: .{extension}"
    if obj.size == 0:
        return "empty file"
    if obj.size > max_bytes:
        return f"too large: {obj.size} bytes > {max_bytes}"
    if any(ord(c) < 32 or ord(c) == 127 for c in obj.key):
        return "key contains control characters"
    return None


def classify_objects(
    objects: Iterable[S3Object],
    *,
    prefix: str,
    accepted_extensions: Iterable[str],
    max_bytes: int,
    exclude: Iterable[str] = (),
) -> SourceListing:
    """Split a listing into source items and rejected objects; `exclude` keys (the sync's own state) are skipped."""
    allowed = frozenset(accepted_extensions)
    skipped = frozenset(exclude)
    accepted: list[SourceItem] = []
    rejected: list[RejectedObject] = []
    for obj in objects:
        if obj.key in skipped or obj.key.endswith("/"):
            continue
        reason = rejection_reason(obj, allowed, max_bytes)
        if reason:
            rejected.append(RejectedObject(obj.key, obj.size, reason))
        else:
            accepted.append(
                SourceItem(obj.key, object_fingerprint(obj.etag, obj.size), document_name(obj.key, prefix), obj.size)
            )
    return SourceListing(tuple(accepted), tuple(rejected))
