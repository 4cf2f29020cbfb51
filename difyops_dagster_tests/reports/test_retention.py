"""Retention deletes the feature's files written more than N days ago — by write time, so a backfill of an
old range is kept — in the local folder and in S3 alike; 0 keeps everything; other prefixes are untouched."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

from difyops_dagster.reports.archive import apply_retention
from difyops_dagster.reports.retention import expired_keys
from difyops_dagster.storage.artifacts import ArtifactInfo, LocalArtifactStore, S3ArtifactStore

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def info(key: str, days_old: float) -> ArtifactInfo:
    return ArtifactInfo(key, 1, NOW - timedelta(days=days_old))


def test_only_files_older_than_the_retention_are_expired():
    listing = [info("reports/a.md", 31), info("reports/b.md", 29.9), info("reports/c.md", 400)]
    assert expired_keys(listing, now=NOW, retention_days=30) == ["reports/a.md", "reports/c.md"]
    assert expired_keys(listing, now=NOW, retention_days=0) == []


def test_local_folder_retention_deletes_old_reports_and_keeps_new_ones_and_other_prefixes(tmp_path):
    store = LocalArtifactStore(tmp_path)
    for key in ("reports/daily/bot/old.md", "reports/daily/bot/new.md", "videos/old.mp4"):
        store.put_bytes(key, b"x")
    month_ago = time.time() - 40 * 86400
    for key in ("reports/daily/bot/old.md", "videos/old.mp4"):
        os.utime(tmp_path / key, (month_ago, month_ago))
    deleted = apply_retention(store, "reports/", now=datetime.now(UTC), retention_days=30)
    assert deleted == ["reports/daily/bot/old.md"]
    assert sorted(i.key for i in store.list()) == ["reports/daily/bot/new.md", "videos/old.mp4"]


def test_s3_retention_deletes_reports_written_before_the_cutoff(s3_client, bucket):
    store = S3ArtifactStore(s3_client, bucket, "difyops/")
    store.put_bytes("reports/weekly/bot/w.md", b"x")
    store.put_bytes("sync/state.json", b"{}")
    assert apply_retention(store, "reports/", now=datetime.now(UTC), retention_days=30) == []
    later = datetime.now(UTC) + timedelta(days=31)
    assert apply_retention(store, "reports/", now=later, retention_days=30) == ["reports/weekly/bot/w.md"]
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["difyops/sync/state.json"]
