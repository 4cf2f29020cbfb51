"""Does a dataset now mirror the source? The facts the promotion gate checks, as a pure function."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from difyops_dagster.sync.models import DatasetDocument, SourceItem


@dataclass(frozen=True)
class Verification:
    expected: int
    documents: int
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    stale: tuple[str, ...]
    duplicates: tuple[str, ...]
    not_indexed: tuple[str, ...]
    errors: tuple[str, ...]

    @property
    def matches_listing(self) -> bool:
        return not (self.missing or self.unexpected or self.stale) and self.documents == self.expected


def verify_dataset(sources: Iterable[SourceItem], documents: Iterable[DatasetDocument]) -> Verification:
    expected = {s.source_key: s.fingerprint for s in sources}
    documents = list(documents)
    keys = Counter(d.source_key for d in documents if d.source_key)
    fingerprints = {d.source_key: d.fingerprint for d in documents if d.source_key}
    return Verification(
        expected=len(expected),
        documents=len(documents),
        missing=tuple(sorted(k for k in expected if k not in keys)),
        unexpected=tuple(
            sorted(d.source_key or f"(untagged) {d.name}" for d in documents if d.source_key not in expected)
        ),
        stale=tuple(sorted(k for k, fp in expected.items() if k in fingerprints and fingerprints[k] != fp)),
        duplicates=tuple(sorted(k for k, n in keys.items() if n > 1)),
        not_indexed=tuple(
            sorted(d.source_key or d.name for d in documents if d.indexing_status not in ("completed", "error"))
        ),
        errors=tuple(sorted(d.source_key or d.name for d in documents if d.indexing_status == "error")),
    )
