"""Objects that cannot become documents are listed with the reason, never silently dropped; a listing's digest is
what a dataset mirroring it exactly carries, so a colour can be checked against what it was synced from."""

from __future__ import annotations

from datetime import UTC, datetime

from difyops_dagster.storage.s3_listing import S3Object
from difyops_dagster.sync.listing import classify_objects, dataset_digest, listing_digest
from difyops_dagster.sync.models import DatasetDocument


def obj(key: str, size: int = 10) -> S3Object:
    return S3Object(key, size, "etag", datetime(2026, 1, 1, tzinfo=UTC))


def test_accepted_and_rejected_objects_with_reasons():
    listing, preview = classify_objects(
        [
            obj("docs/a.md"),
            obj("docs/b.EXE"),
            obj("docs/empty.txt", 0),
            obj("docs/big.pdf", 99),
            obj("docs/noext"),
            obj("docs/state.json"),
            obj("docs/sub/"),
        ],
        prefix="docs/",
        accepted_extensions={"md", "txt", "pdf"},
        max_bytes=50,
        exclude=["docs/state.json"],
    )
    assert [s.source_key for s in listing.accepted] == ["docs/a.md"]
    assert listing.accepted[0].document_name == "a.md"
    reasons = {r.key: r.reason for r in listing.rejected}
    assert reasons == {
        "docs/b.EXE": "type not supported: .exe",
        "docs/empty.txt": "empty file",
        "docs/big.pdf": "too large: 99 bytes > 50",
        "docs/noext": "type not supported: no file extension",
    }
    assert [(row["key"], row["accepted"]) for row in preview][:2] == [("docs/a.md", "yes"), ("docs/b.EXE", "no")]


def test_extension_matching_is_case_insensitive():
    listing, _ = classify_objects([obj("A.MD")], prefix="", accepted_extensions={"md"}, max_bytes=100)
    assert len(listing.accepted) == 1


def test_keys_with_control_characters_are_rejected():
    listing, _ = classify_objects([obj("bad\x07name.md")], prefix="", accepted_extensions={"md"}, max_bytes=100)
    assert listing.rejected[0].reason.startswith("key contains control characters")


def document(key: str, fingerprint: str, **state: object) -> DatasetDocument:
    fields = {"available": True, "enabled": True, "archived": False, **state}
    return DatasetDocument(f"id-{key}", key, "completed", fields["available"], key, fingerprint, None,
                           fields["enabled"], fields["archived"])  # fmt: skip


def test_a_dataset_mirroring_a_listing_has_its_digest_and_any_difference_shows():
    """What a rollback checks before it serves a colour again: it holds exactly what it was synced from."""
    listing, _ = classify_objects(
        [obj("docs/b.md"), obj("docs/a.md"), obj("docs/中文.md")], prefix="", accepted_extensions={"md"}, max_bytes=99
    )
    listed = sorted(listing.accepted, key=lambda s: s.source_key.encode())  # S3's order: UTF-8 bytes
    digest, count = listing_digest(listed)
    mirror = [document(s.source_key, s.fingerprint) for s in reversed(listing.accepted)]
    assert count == 3 and dataset_digest(mirror) == digest
    assert dataset_digest(mirror[:2]) != digest, "a missing document"
    assert dataset_digest([*mirror[:2], document("docs/a.md", "v1:other:10")]) != digest, "a stale one"
    assert dataset_digest([*mirror[:2], document("docs/a.md", "v1:etag:10", available=False, enabled=False)]) is None
