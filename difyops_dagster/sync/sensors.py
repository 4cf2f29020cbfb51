"""`bucket_changed_sensor`: one listing per tick, a digest of what the sync would upload, a run when it moves.

The cursor is the digest (SHA-256 over key and fingerprint of every accepted object, in listing order) plus
the count, so additions, changes and deletions all move it and an unchanged bucket requests nothing. The
digest is also the `run_key`: a tick whose cursor update was lost cannot start a second run for one state.
"""

import hashlib
import json

import dagster as dg
from dagster_aws.s3 import S3Resource

from difyops_dagster.sync.assets import list_source
from difyops_dagster.sync.config import SyncSettings


def listing_digest(sources) -> tuple[str, int]:
    digest = hashlib.sha256()
    count = 0
    for source in sources:
        digest.update(f"{source.source_key}\0{source.fingerprint}\n".encode())
        count += 1
    return digest.hexdigest(), count


def build_bucket_sensor(settings: SyncSettings, job) -> dg.SensorDefinition:
    @dg.sensor(
        name="bucket_changed_sensor",
        job=job,
        minimum_interval_seconds=settings.sensor_interval_s,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Syncs when objects under s3://{settings.bucket}/{settings.prefix} are added, changed or deleted.",
    )
    def bucket_changed_sensor(context: dg.SensorEvaluationContext, s3: S3Resource):
        listing = list_source(settings, s3.get_client())
        digest, count = listing_digest(listing.accepted)
        previous = json.loads(context.cursor) if context.cursor else None
        cursor = json.dumps({"digest": digest, "count": count})
        if previous and previous.get("digest") == digest:
            return dg.SkipReason(f"bucket unchanged: {count} accepted objects, digest {digest[:12]}")
        reason = (
            "first look at the bucket"
            if previous is None
            else f"bucket changed: {previous.get('count')} -> {count} accepted objects"
        )
        context.log.info(reason)
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=f"bucket-{digest}", tags={"difyops/trigger": "bucket"})], cursor=cursor
        )

    return bucket_changed_sensor
