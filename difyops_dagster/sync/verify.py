"""Does a dataset now mirror the sources? The facts the promotion gate checks, as a pure function.

Read from the dataset itself after the writes (not from what the writes reported), so a check passes only when
Dify holds exactly one indexed document per source with the current fingerprint. The dataset is judged as
retrieval sees it: a disabled or archived document is not served, so it neither stands for its source nor counts
as unexpected or as a duplicate; it is listed in `unserved` (reported, never silently passed).
"""

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
    unserved: tuple[str, ...] = ()

    @property
    def matches_listing(self) -> bool:
        return not (self.missing or self.unexpected or self.stale)


def verify_dataset(
    sources: Iterable[SourceItem], documents: Iterable[DatasetDocument], *, mirror: bool = True
) -> Verification:
    """With `mirror`, documents of no source are `unexpected`; without, only the sources' documents count."""
    expected = {s.source_key: s.fingerprint for s in sources}
    every = [d for d in documents if mirror or d.source_key in expected]
    documents = [d for d in every if d.served]
    keys = Counter(d.source_key for d in documents if d.source_key)
    current = {d.source_key for d in documents if d.source_key and d.fingerprint == expected.get(d.source_key)}
    return Verification(
        expected=len(expected),
        documents=len(documents),
        missing=tuple(sorted(k for k in expected if k not in keys)),
        unexpected=tuple(
            sorted(d.source_key or f"(no source_key) {d.name}" for d in documents if d.source_key not in expected)
        ),
        stale=tuple(sorted(k for k in expected if k in keys and k not in current)),
        duplicates=tuple(sorted(k for k, n in keys.items() if n > 1)),
        not_indexed=tuple(sorted(d.source_key or d.name for d in documents if d.in_progress)),
        errors=tuple(sorted(_indexing_error(d) for d in documents if d.indexing_status == "error")),
        unserved=tuple(sorted(f"{d.source_key or d.name} ({d.state})" for d in every if not d.served)),
    )


def _indexing_error(document: DatasetDocument) -> str:
    """The source key with Dify's own reason: an operator reading the failed check needs the why, not only the
    which (the reason is otherwise only on the document's page in Dify)."""
    key = document.source_key or document.name
    return f"{key} (Dify: {document.error})" if document.error else key
