"""S3 event notifications as the bucket sensor reads them off a queue. Pure (the messages are passed in).

AWS S3 (and moto's server) publish `ObjectCreated:*` / `ObjectRemoved:*` records to an SQS queue, directly or
through SNS (the body is then an SNS envelope whose `Message` holds the records) or EventBridge (`detail-type`
"Object Created" / "Object Deleted"). Keys in S3 records are URL-encoded (`+` for a space). A queue also carries
`s3:TestEvent` when the notification is first configured, and events of other buckets or prefixes when it is
shared: those are consumed and ignored. Only a change to an object the sync would upload (or to one it may
have uploaded before, for a removal) asks for a run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus


@dataclass(frozen=True, slots=True)
class BucketEvent:
    kind: str  # "created" or "removed"
    bucket: str
    key: str
    sequencer: str = ""


def parse_message(body: str) -> list[BucketEvent]:
    """The object events in one queue message (none for a test event or a body that is not an S3 event)."""
    try:
        payload = json.loads(body)
    except ValueError:
        return []
    if isinstance(payload, dict) and payload.get("Type") == "Notification" and isinstance(payload.get("Message"), str):
        return parse_message(payload["Message"])  # through SNS
    if not isinstance(payload, dict):
        return []
    if "detail-type" in payload:
        return list(_eventbridge(payload))
    return list(_s3_records(payload.get("Records")))


def _s3_records(records: Any) -> Iterator[BucketEvent]:
    for record in records if isinstance(records, list) else ():
        name = str(record.get("eventName") or "") if isinstance(record, dict) else ""
        kind = "created" if name.startswith("ObjectCreated") else "removed" if name.startswith("ObjectRemoved") else ""
        s3 = record.get("s3") if kind else None
        if not isinstance(s3, dict):
            continue
        bucket = str((s3.get("bucket") or {}).get("name") or "")
        obj = s3.get("object") or {}
        if bucket and obj.get("key") is not None:
            yield BucketEvent(kind, bucket, unquote_plus(str(obj["key"])), str(obj.get("sequencer") or ""))


def _eventbridge(payload: dict) -> Iterator[BucketEvent]:
    kind = {"Object Created": "created", "Object Deleted": "removed"}.get(str(payload.get("detail-type")))
    detail = payload.get("detail") or {}
    bucket = str((detail.get("bucket") or {}).get("name") or "")
    key = (detail.get("object") or {}).get("key")
    if kind and bucket and key is not None:
        yield BucketEvent(kind, bucket, str(key), str((detail.get("object") or {}).get("sequencer") or ""))


def relevant_events(
    events: Iterable[BucketEvent], *, bucket: str, prefix: str, excluded: Iterable[str], wanted: Callable[[str], bool]
) -> list[BucketEvent]:
    """The events that can change the dataset: this bucket, under the prefix, not the sync's own state object
    or a folder marker, and a key of a type the sync uploads (`wanted`)."""
    skipped = frozenset(excluded)
    return [
        e
        for e in events
        if e.bucket == bucket
        and e.key.startswith(prefix)
        and e.key not in skipped
        and not e.key.endswith("/")
        and wanted(e.key)
    ]
