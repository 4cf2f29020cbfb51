"""`bucket_changed_sensor`: one streamed listing per tick, a digest of what the sync would upload, a run when it moves.

The cursor holds the digest (SHA-256 over key, ETag and size of every accepted object, in key order), the count
and a sequence number. Additions, changes (even of the same size: the ETag moves) and deletions all move the
digest; rejected objects do not (they would not change the dataset), so an unchanged bucket requests nothing.
The cursor lives in Dagster's storage, so it survives daemon restarts. The `run_key` is the sequence number and
the digest: a tick whose cursor update was lost computes the same key and the daemon drops the duplicate, while
a bucket that returns to an earlier state (A -> B -> A) still gets its run. While a sync run is in flight the
sensor waits (cursor untouched) and looks again after it.
"""

import json
from typing import TYPE_CHECKING

import dagster as dg
from dagster_aws.s3 import S3Resource

from difyops_dagster.sync.assets import list_source
from difyops_dagster.sync.config import SyncSettings
from difyops_dagster.sync.listing import listing_digest
from difyops_dagster.sync.runs import sync_run_in_flight, sync_target

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition


def read_cursor(cursor: str | None) -> dict | None:
    if not cursor:
        return None
    try:
        value = json.loads(cursor)
    except ValueError:
        return None  # a cursor from another format: treat as a first look (one run, then a valid cursor)
    return value if isinstance(value, dict) else None


def build_bucket_sensor(settings: SyncSettings, job: "UnresolvedAssetJobDefinition") -> dg.SensorDefinition:
    @dg.sensor(
        name="bucket_changed_sensor",
        job=job,
        minimum_interval_seconds=settings.sensor_interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Starts a sync when objects under s3://{settings.bucket}/{settings.prefix} are added, changed "
        "or deleted; skips (with the reason) when nothing changed or a sync is already running.",
    )
    def bucket_changed_sensor(context: dg.SensorEvaluationContext, s3: S3Resource):
        running = sync_run_in_flight(context.instance, sync_target(settings.targets()), context.log.info)
        if running:
            return dg.SkipReason(f"sync run {running} is in flight; the bucket is looked at again after it")
        listing, _ = list_source(settings, s3.get_client())
        digest, count = listing_digest(listing.accepted)
        previous = read_cursor(context.cursor)
        if previous and previous.get("digest") == digest:
            return dg.SkipReason(f"bucket unchanged: {count} accepted objects, digest {digest[:12]}")
        seq = int(previous.get("seq", 0)) + 1 if previous else 1
        reason = (
            "first look at the bucket"
            if previous is None
            else f"bucket changed: {previous.get('count')} -> {count} accepted objects"
        )
        context.log.info(reason)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=f"bucket-{seq}-{digest[:16]}",
                    tags={"difyops/trigger": "bucket_changed", "difyops/bucket_digest": digest[:16]},
                )
            ],
            cursor=json.dumps({"digest": digest, "count": count, "seq": seq}),
        )

    return bucket_changed_sensor
