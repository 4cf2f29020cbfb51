"""Objects that cannot become documents are listed with the reason, never silently dropped."""

from __future__ import annotations

from datetime import UTC, datetime

from difyops_dagster.storage.s3_listing import S3Object
from difyops_dagster.sync.listing import classify_objects


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
