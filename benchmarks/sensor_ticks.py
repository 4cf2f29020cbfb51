"""`bucket_changed_sensor` over large buckets: ticks with event notifications against ticks that list.

Figures, side by side in one run, at 10,000, 30,000 and 100,000 objects (BENCH_SENSOR_SIZES) in a moto server
(filled through moto's own backend, as the load suite does): with notifications on (the bucket's events sent to
an SQS queue in the same moto server), the seconds and S3 listing calls of a tick over the unchanged bucket, and
the ticks until a changed object asks for a run; with listing only, the ticks a full pass takes at the default
tick budget, the longest tick against that budget and Dagster's 60 s sensor timeout, and the ticks until a change
asks for a run. Per-object cost and a million-object projection come from the listing pass.
"""

from __future__ import annotations

import os
import time
from typing import Any

import boto3
import dagster as dg
from dagster_aws.s3 import S3Resource

from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import parse_settings
from difyops_dagster.sync.config import SyncSettings
from difyops_dagster_tests.hardening.filled_s3 import FilledMotoS3Process, object_body, object_key

TITLE = "Bucket sensor: notifications vs listing, 10k / 30k / 100k objects"
SIZES = [int(n) for n in os.environ.get("BENCH_SENSOR_SIZES", "10000,30000,100000").split(",")]
BUCKET = "sensor-bench"
BUDGET = SyncSettings.model_fields["sensor_tick_budget_s"].default
KEYS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "K": "k"}


class CountingS3(S3Resource):
    """dagster-aws's S3Resource whose client counts its ListObjectsV2 calls."""

    def get_client(self) -> Any:
        client = super().get_client()
        client.meta.events.register("before-call.s3.ListObjectsV2", _count)
        return client


LISTINGS = {"calls": 0}


def _count(**_: Any) -> None:
    LISTINGS["calls"] += 1


def _sensor(endpoint: str, queue_url: str | None):
    os.environ.update(KEYS)
    sync = {"bucket": BUCKET, "mode": "single", "dataset_id": "00000000-0000-4000-8000-000000000000"}
    if queue_url:
        sync |= {"notifications_queue_url": queue_url, "notifications_endpoint_url": endpoint}
    settings = parse_settings(
        {
            "dify": {"base_url": "http://127.0.0.1:1/v1", "dataset_api_key": {"env": "K"}},
            "s3": {
                "endpoint_url": endpoint,
                "access_key_id": {"env": "AWS_ACCESS_KEY_ID"},
                "secret_access_key": {"env": "AWS_SECRET_ACCESS_KEY"},
            },
            "sync": sync,
        },
        KEYS,
    )
    defs = build_definitions(settings)
    s3 = CountingS3(
        endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    return defs.resolve_sensor_def("bucket_changed_sensor"), {
        "s3": s3,
        "bucket_notifications": defs.resources["bucket_notifications"],
    }


def _tick(sensor, resources, instance, cursor):
    LISTINGS["calls"] = 0
    started = time.perf_counter()
    result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources))
    seconds = time.perf_counter() - started
    new_cursor = getattr(result, "cursor", None) or cursor
    requested = bool(getattr(result, "run_requests", None))
    return seconds, LISTINGS["calls"], requested, new_cursor


def _until_requested(sensor, resources, instance, cursor, limit: int = 100):
    """(ticks, longest tick, cursor) until a tick requests a run."""
    longest = 0.0
    for ticks in range(1, limit + 1):
        seconds, _, requested, cursor = _tick(sensor, resources, instance, cursor)
        longest = max(longest, seconds)
        if requested:
            return ticks, longest, cursor
    raise RuntimeError("no run was requested")


def _queue(endpoint: str) -> str:
    sqs = boto3.client(
        "sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    url = sqs.create_queue(QueueName="bucket-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    configuration = {"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}]}
    boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    ).put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=configuration)
    return url


def run() -> list[dict]:
    rows: list[dict] = []
    for size in SIZES:
        with FilledMotoS3Process(BUCKET, size) as server, dg.instance_for_test() as instance:
            client = server.client()
            # listing only: the first look, then an unchanged pass, then a change
            sensor, resources = _sensor(server.endpoint_url, None)
            started = time.perf_counter()
            ticks, longest, cursor = _until_requested(sensor, resources, instance, None)
            first_pass = time.perf_counter() - started
            client.put_object(Bucket=BUCKET, Key=object_key(7), Body=object_body(7) + b"v2")
            change_ticks, change_longest, _ = _until_requested(sensor, resources, instance, cursor)
            rows += [
                {
                    "figure": f"{size:,} objects, listing only: ticks per full pass / longest tick",
                    "value": f"{ticks} ticks / {max(longest, change_longest):.1f} s",
                    "compared_with": f"tick budget {BUDGET:g} s, sensor timeout 60 s",
                    "ratio": f"{max(longest, change_longest) / 60:.2f} of the timeout",
                },
                {
                    "figure": f"{size:,} objects, listing only: ticks until a change asks for a run",
                    "value": f"{change_ticks}",
                    "compared_with": f"one full pass = {ticks} ticks",
                    "ratio": "",
                },
                {
                    "figure": f"{size:,} objects, listing only: pass time per 1,000 objects",
                    "value": f"{first_pass / size * 1000:.2f} s",
                    "compared_with": f"a million: {first_pass / size * 1_000_000 / 60:.0f} min, "
                    f"{first_pass / size * 1_000_000 / BUDGET:.0f} ticks",
                    "ratio": "",
                },
            ]
            # notifications: the first look lists; then quiet ticks cost a queue poll
            queue_url = _queue(server.endpoint_url)
            sensor, resources = _sensor(server.endpoint_url, queue_url)
            _, _, cursor = _until_requested(sensor, resources, instance, None)
            _tick(sensor, resources, instance, cursor)  # the put above, older than the listing: consumed
            quiet_seconds, quiet_listings, quiet_requested, cursor = _tick(sensor, resources, instance, cursor)
            client.put_object(Bucket=BUCKET, Key=object_key(8), Body=object_body(8) + b"v2")
            event_ticks, event_longest, _ = _until_requested(sensor, resources, instance, cursor)
            rows += [
                {
                    "figure": f"{size:,} objects, notifications: unchanged tick",
                    "value": f"{quiet_seconds:.3f} s, {quiet_listings} listing calls"
                    + (", a run requested" if quiet_requested else ""),
                    "compared_with": f"listing only: {ticks} ticks of up to {longest:.1f} s",
                    "ratio": f"{quiet_seconds / max(longest, 1e-9):.3f}x of a listing tick",
                },
                {
                    "figure": f"{size:,} objects, notifications: ticks until a change asks for a run",
                    "value": f"{event_ticks} ({event_longest:.3f} s)",
                    "compared_with": f"listing only: {change_ticks}",
                    "ratio": "",
                },
            ]
    return rows
