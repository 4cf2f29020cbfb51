"""Streaming listing of an S3 bucket/prefix, every page, one object at a time.

Why not `dagster_aws.s3.sensor.get_objects`: it holds the whole listing in memory, sorts it, and cannot see
deletions; the sync and its sensor need every object (deleted ones are noticed by their absence) without
building a list of 100,000 dicts first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class S3Object:
    key: str
    size: int
    etag: str
    last_modified: datetime


def iter_s3_objects(
    client: Any, bucket: str, prefix: str = "", page_size: int = 1000, start_after: str | None = None
) -> Iterator[S3Object]:
    """Every object under `prefix` (after `start_after`, if given), in key order, following continuation tokens
    to the end."""
    paginator = client.get_paginator("list_objects_v2")
    extra = {"StartAfter": start_after} if start_after else {}
    pages = paginator.paginate(Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}, **extra)
    for page in pages:
        for obj in page.get("Contents", ()):
            yield S3Object(obj["Key"], obj["Size"], obj["ETag"].strip('"'), obj["LastModified"])
