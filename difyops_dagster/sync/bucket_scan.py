"""What the bucket sensor compares between ticks: a digest of the objects the sync would upload, computed by a
listing that may span several ticks. Pure (the listing is passed in).

The digest is a set hash: the sum, modulo 2**256, of SHA-256 over `key`, `fingerprint` of each accepted object.
A sum does not depend on where a listing was cut, so a pass resumed from its cursor (`StartAfter` the last key
seen) gives the same digest as one made in a single tick, and the partial state is three numbers a cursor can
hold. Additions, changes (the ETag moves, even at the same size) and deletions all move it; rejected objects do
not (they would not change the dataset).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from difyops_dagster.storage.s3_listing import S3Object
from difyops_dagster.sync.fingerprint import object_fingerprint

MODULUS = 2**256


@dataclass(frozen=True)
class ScanState:
    """A listing pass in progress: the last key taken, and the digest and count so far."""

    after: str | None = None
    total: int = 0
    count: int = 0
    started_at: float = 0.0

    @property
    def digest(self) -> str:
        return f"{self.total:064x}"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "total": self.digest}

    @classmethod
    def from_json(cls, data: Any) -> ScanState | None:
        """The saved state, or None for nothing saved or a shape this version does not know (start afresh)."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                after=data.get("after"),
                total=int(str(data["total"]), 16),
                count=int(data["count"]),
                started_at=float(data.get("started_at") or 0.0),
            )
        except (KeyError, TypeError, ValueError):
            return None


def object_token(key: str, fingerprint: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{key}\0{fingerprint}".encode()).digest(), "big")


def scan_step(
    objects: Iterable[S3Object],
    state: ScanState,
    *,
    accepted: Callable[[S3Object], bool],
    out_of_time: Callable[[], bool],
) -> tuple[ScanState, bool]:
    """Take objects (listed after `state.after`, in key order) until the listing ends (`True`: the pass is
    complete) or time is up (`False`: continue from the returned state)."""
    after, total, count = state.after, state.total, state.count
    for obj in objects:
        after = obj.key
        if accepted(obj):
            total = (total + object_token(obj.key, object_fingerprint(obj.etag, obj.size))) % MODULUS
            count += 1
        if out_of_time():
            return ScanState(after, total, count, state.started_at), False
    return ScanState(after, total, count, state.started_at), True
