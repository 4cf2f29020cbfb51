"""Which stored files are past their retention: pure, over a listing and an explicit `now`.

Age is the file's last-modified time (when it was written), not the day it reports on: a backfill of last
year's days must not be deleted by the same run that wrote it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from difyops_dagster.storage.artifacts import ArtifactInfo


def expired_keys(listing: Iterable[ArtifactInfo], *, now: datetime, retention_days: int) -> list[str]:
    """Keys written more than `retention_days` before `now`; none when retention is 0 (keep everything)."""
    if retention_days <= 0:
        return []
    cutoff = now - timedelta(days=retention_days)
    return sorted(info.key for info in listing if info.last_modified < cutoff)
