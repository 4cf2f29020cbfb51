"""`bucket_changed_sensor` at the size real buckets reach: a listing that does not fit in one tick continues from
its cursor on the next with the same digest, and where the bucket sends event notifications (moto's S3 server
publishes them to its SQS queue, as AWS S3 does) a tick reads the queue instead of the bucket and lists the bucket
in full only when the reconciliation is due.
"""

from __future__ import annotations

import json
import uuid

import boto3
import dagster as dg
import pytest

from difyops_dagster.sync.runs import TARGET_TAG, sync_target
from difyops_dagster_tests.sync.conftest import open_world
from difyops_dagster_tests.sync.test_sensor import tick

pytestmark = pytest.mark.filterwarnings("ignore:InitResourceContext.dagster_run is deprecated:DeprecationWarning")


@pytest.fixture
def events_world(standin, moto_s3_server, monkeypatch, tmp_path):
    """A sync world on moto (the S3 server here that publishes event notifications; SeaweedFS does not)."""
    s3 = moto_s3_server.client()
    bucket = f"events-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    with open_world(standin, s3, bucket, monkeypatch, tmp_path, endpoint_url=moto_s3_server.endpoint_url) as world:
        yield world


@pytest.fixture
def queue(events_world, moto_s3_server):
    """An SQS queue in the same moto server, with the bucket's ObjectCreated/ObjectRemoved events sent to it."""
    world = events_world
    sqs = boto3.client(
        "sqs",
        endpoint_url=moto_s3_server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    name = f"bucket-events-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    world.s3.put_bucket_notification_configuration(
        Bucket=world.bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}]
        },
    )
    world.overrides.update(notifications_queue_url=url, notifications_endpoint_url=moto_s3_server.endpoint_url)
    return sqs, url


def test_a_listing_cut_into_ticks_gives_the_same_digest_and_one_run_at_its_end(world):
    for name in "abcde":
        world.put(f"{name}.md", name)
    whole, _ = tick(world, None)
    assert len(whole.run_requests) == 1
    one_tick_digest = json.loads(whole.cursor)["digest"]

    cursor, ticks, requests = None, 0, []
    while not requests:
        result, cursor = tick(world, cursor, sensor_tick_budget_s=1e-9)  # out of time after every object
        ticks += 1
        requests = [] if isinstance(result, dg.SkipReason) else list(result.run_requests or [])
        if not requests:
            assert "continued on the next tick" in result.skip_reason.skip_message
        assert ticks <= 6
    assert ticks == 6  # five objects, one a tick, and the tick that finds the end
    assert json.loads(cursor)["digest"] == one_tick_digest and json.loads(cursor)["scan"] is None


def test_a_change_behind_a_listing_in_progress_is_found_by_the_next_pass(world):
    for name in "abc":
        world.put(f"{name}.md", name)
    _, cursor = tick(world, None)
    result, cursor = tick(world, cursor, sensor_tick_budget_s=1e-9)  # the pass stops after a.md
    world.put("a.md", "A")  # behind the listing: this pass cannot see it
    while json.loads(cursor)["scan"] is not None:
        result, cursor = tick(world, cursor, sensor_tick_budget_s=1e-9)
    assert isinstance(result, dg.SensorResult) and not result.run_requests  # the pass saw the old a.md
    changed, _ = tick(world, cursor)
    assert len(changed.run_requests) == 1


def test_with_notifications_a_change_asks_for_a_run_without_listing_the_bucket(events_world, queue):
    world = events_world
    world.put("a.md", "a")
    first, cursor = tick(world, None)  # the first look is a full listing
    assert len(first.run_requests) == 1 and first.run_requests[0].run_key.startswith("bucket-")
    covered, cursor = tick(world, cursor)  # the event of that put is older than the listing: no second run
    assert not covered.run_requests

    quiet, cursor = tick(world, cursor)
    assert isinstance(quiet, dg.SkipReason) and "no change events" in quiet.skip_message

    world.put("docs/b.md", "b")
    created, cursor = tick(world, cursor)
    (request,) = created.run_requests
    assert request.run_key.startswith("events-")

    world.delete("docs/b.md")
    removed, cursor = tick(world, cursor)
    assert len(removed.run_requests) == 1 and removed.run_requests[0].run_key != request.run_key


def test_events_about_objects_the_sync_does_not_upload_request_nothing(events_world, queue):
    world = events_world
    world.put("a.md", "a")
    _, cursor = tick(world, None)
    _, cursor = tick(world, cursor)
    world.put("notes.exe", "x")  # a type the sync rejects
    world.put("_difyops/active-colour.json", "{}")  # the sync's own state object
    ignored, cursor = tick(world, cursor)
    assert not ignored.run_requests and "none about an object the sync uploads" in ignored.skip_reason.skip_message


def test_with_notifications_the_bucket_is_still_listed_when_the_reconciliation_is_due(events_world, queue):
    world = events_world
    world.put("a.md", "a")
    _, cursor = tick(world, None)
    _, cursor = tick(world, cursor)
    sqs, url = queue
    sqs.purge_queue(QueueUrl=url)
    world.s3.put_bucket_notification_configuration(Bucket=world.bucket, NotificationConfiguration={})
    world.put("b.md", "b")  # a change whose event was lost
    stale = json.loads(cursor) | {"reconciled_at": 0}
    found, _ = tick(world, json.dumps(stale))
    assert len(found.run_requests) == 1 and found.run_requests[0].run_key.startswith("bucket-")


def test_a_sync_in_flight_leaves_the_events_in_the_queue(events_world, queue):
    world = events_world
    world.put("a.md", "a")
    _, cursor = tick(world, None)
    _, cursor = tick(world, cursor)
    world.put("b.md", "b")
    run_id = str(uuid.uuid4())
    tags = {TARGET_TAG: sync_target({"blue": world.blue, "green": world.green})}
    world.instance.add_run(
        dg.DagsterRun(job_name="sync_job", run_id=run_id, status=dg.DagsterRunStatus.STARTED, tags=tags)
    )
    waiting, kept = tick(world, cursor)
    assert isinstance(waiting, dg.SkipReason) and kept == cursor
    world.instance.report_run_canceled(world.instance.get_run_by_id(run_id))
    assert len(tick(world, cursor)[0].run_requests) == 1
