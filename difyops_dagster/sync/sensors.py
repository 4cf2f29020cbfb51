"""`bucket_changed_sensor`: a run when the objects the sync would upload change, at a cost that grows with the
changes where the bucket sends notifications, and within Dagster's sensor timeout either way.

Two ways to notice a change:

- **Notifications** (`sync.notifications_queue_url`): the bucket publishes its S3 event notifications to an SQS
  queue (AWS S3 and moto do; bucket_events.py reads S3, SNS and EventBridge bodies). A tick reads what arrived
  (one short poll when nothing did) and requests a run when an event touches an object the sync uploads. Every
  `sync.reconcile_interval_s` the bucket is also listed in full, as the reconciliation that catches a lost or
  undelivered event.
- **Listing** (no queue, and every reconciliation): the digest of bucket_scan.py over the accepted objects,
  compared with the last complete listing's. A listing that does not finish within `sync.sensor_tick_budget_s`
  stops, keeps where it was in the cursor, and continues on the next tick, so no tick nears Dagster's 60 s
  sensor timeout however large the bucket.

The cursor (JSON, in Dagster's storage, so it survives daemon restarts) holds the last complete digest and
count, a sequence number, the listing in progress and when the last reconciliation finished. The `run_key` is the
sequence number and the digest (or the events' digest): a tick whose cursor update was lost computes the same key
and the daemon drops the duplicate, while a bucket that returns to an earlier state (A -> B -> A) still gets its
run. While a sync run is in flight the sensor waits (cursor untouched, events left in the queue) and looks again
after it.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import dagster as dg

from difyops_dagster.storage.s3_listing import S3Object, iter_s3_objects
from difyops_dagster.sync.bucket_events import parse_message, relevant_events
from difyops_dagster.sync.bucket_scan import ScanState, scan_step
from difyops_dagster.sync.config import SyncSettings
from difyops_dagster.sync.listing import rejection_reason
from difyops_dagster.sync.resources import BucketNotificationsResource
from difyops_dagster.sync.runs import sync_run_in_flight, sync_target
from difyops_dagster.sync.scope import SyncScope

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

MAX_MESSAGES_PER_TICK = 1_000


@dataclass(frozen=True)
class SensorCursor:
    digest: str | None = None  # of the last complete listing
    count: int = 0
    seq: int = 0
    scan: ScanState | None = None  # a listing in progress
    reconciled_at: float = 0.0  # when the last complete listing finished
    listed_from: float = 0.0  # when it started

    def to_json(self) -> str:
        scan = self.scan.to_json() if self.scan else None
        return json.dumps(
            {
                "digest": self.digest,
                "count": self.count,
                "seq": self.seq,
                "scan": scan,
                "reconciled_at": self.reconciled_at,
                "listed_from": self.listed_from,
            }
        )

    @classmethod
    def read(cls, text: str | None) -> SensorCursor:
        """The saved cursor; an empty or unreadable one is a first look (one run, then a valid cursor)."""
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return cls()
        return cls(
            digest=data.get("digest") if isinstance(data.get("digest"), str) else None,
            count=int(data.get("count") or 0),
            seq=int(data.get("seq") or 0),
            scan=ScanState.from_json(data.get("scan")),
            reconciled_at=float(data.get("reconciled_at") or 0.0),
            listed_from=float(data.get("listed_from") or 0.0),
        )


def _accepts(settings: SyncSettings, excluded: list[str]):
    allowed = frozenset(settings.accepted_extensions)
    skipped = frozenset(excluded)

    def accepted(obj: S3Object) -> bool:
        if obj.key in skipped or obj.key.endswith("/"):
            return False
        return rejection_reason(obj, allowed, settings.max_bytes) is None

    return accepted


def _uploadable_key(settings: SyncSettings):
    allowed = frozenset(settings.accepted_extensions)

    def wanted(key: str) -> bool:
        name = key.rsplit("/", 1)[-1]
        return "." in name.strip(".") and name.rsplit(".", 1)[-1].lower() in allowed

    return wanted


def _run(cursor: SensorCursor, key: str, reason: str, context: dg.SensorEvaluationContext, **tags: str):
    context.log.info(reason)
    return dg.RunRequest(run_key=f"{key}-{cursor.seq}", tags={"difyops/trigger": "bucket_changed", **tags})


def build_bucket_sensor(scope: SyncScope, job: UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    settings = scope.settings
    accepted, wanted = _accepts(settings, scope.excluded_keys), _uploadable_key(settings)
    notifications_key = scope.notifications_resource
    location = f"s3://{settings.bucket}/{settings.prefix}"
    watched = "its event notifications" if settings.notifications_queue_url else "a listing every tick"

    @dg.sensor(
        name=scope.named("bucket_changed_sensor"),
        job=job,
        required_resource_keys={"s3", notifications_key},
        minimum_interval_seconds=settings.sensor_interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Starts a sync when objects under {location} are added, changed or deleted ({watched}); "
        "skips (with the reason) when nothing changed or a sync is already running.",
    )
    def bucket_changed_sensor(context: dg.SensorEvaluationContext, **_direct: object):
        # resources by key (they carry the sync's name): `context.resources`; a direct call (`sensor(context)`,
        # in tests) also passes them as keyword arguments, `_direct`, which the same context already holds
        s3_client = context.resources.s3  # what S3Resource creates: the boto3 client
        bucket_notifications: BucketNotificationsResource = getattr(context.resources, notifications_key)
        running = sync_run_in_flight(context.instance, sync_target(settings.targets()), context.log.info)
        if running:
            return dg.SkipReason(f"sync run {running} is in flight; the bucket is looked at again after it")
        cursor = SensorCursor.read(context.cursor)
        now = time.time()
        first_look = cursor.digest is None and cursor.scan is None
        if settings.notifications_queue_url and not first_look:  # the first look is a listing: events before it
            changed = _events_tick(context, cursor, bucket_notifications)  # are covered by it
            if changed is not None:
                return changed
            due = now - cursor.reconciled_at >= settings.reconcile_interval_s
            if cursor.scan is None and not due:
                left = int(settings.reconcile_interval_s - (now - cursor.reconciled_at))
                return dg.SkipReason(f"no change events for {location}; next full listing in {left} s")
        return _listing_tick(context, cursor, s3_client, now)

    def _events_tick(context, cursor: SensorCursor, queue: BucketNotificationsResource):
        messages = queue.receive(MAX_MESSAGES_PER_TICK)
        if not messages:
            return None
        # an event sent before the last complete listing started is a change that listing already saw
        fresh = [m for m in messages if m.sent_at >= cursor.listed_from]
        events = [event for message in fresh for event in parse_message(message.body)]
        relevant = relevant_events(
            events, bucket=settings.bucket, prefix=settings.prefix, excluded=scope.excluded_keys, wanted=wanted
        )
        queue.delete(messages)  # a lost event is caught by the next full listing (the reconciliation)
        if not relevant:
            return dg.SensorResult(
                skip_reason=f"{len(messages)} queue messages, none about an object the sync uploads",
                cursor=cursor.to_json(),
            )
        marks = sorted(f"{e.kind}:{e.key}:{e.sequencer}" for e in relevant)
        key = "events-" + hashlib.sha256("\n".join(marks).encode()).hexdigest()[:16]
        advanced = replace(cursor, seq=cursor.seq + 1)
        created = sum(e.kind == "created" for e in relevant)
        reason = f"bucket events: {created} created or changed, {len(relevant) - created} removed objects"
        request = _run(advanced, key, reason, context)
        return dg.SensorResult(run_requests=[request], cursor=advanced.to_json())

    def _listing_tick(context, cursor: SensorCursor, s3_client: Any, now: float):
        started = time.monotonic()
        scan = cursor.scan or ScanState(started_at=now)
        objects = iter_s3_objects(s3_client, settings.bucket, settings.prefix, start_after=scan.after)
        scan, finished = scan_step(
            objects,
            scan,
            accepted=accepted,
            out_of_time=lambda: time.monotonic() - started >= settings.sensor_tick_budget_s,
        )
        if not finished:
            return dg.SensorResult(
                skip_reason=f"listing {location}: {scan.count} accepted objects so far, continued on the next tick "
                f"after {scan.after!r}",
                cursor=replace(cursor, scan=scan).to_json(),
            )
        listed = replace(
            cursor, digest=scan.digest, count=scan.count, scan=None, reconciled_at=now, listed_from=scan.started_at
        )
        if cursor.digest == scan.digest:
            unchanged = f"bucket unchanged: {scan.count} accepted objects, digest {scan.digest[:12]}"
            if cursor.scan is None and not settings.notifications_queue_url:
                return dg.SkipReason(unchanged)  # nothing the cursor holds has moved
            return dg.SensorResult(skip_reason=unchanged, cursor=listed.to_json())
        listed = replace(listed, seq=cursor.seq + 1)
        reason = (
            "first look at the bucket"
            if cursor.digest is None
            else f"bucket changed: {cursor.count} -> {scan.count} accepted objects"
        )
        request = _run(
            listed, f"bucket-{scan.digest[:16]}", reason, context, **{"difyops/bucket_digest": scan.digest[:16]}
        )
        return dg.SensorResult(run_requests=[request], cursor=listed.to_json())

    return bucket_changed_sensor
