"""The sync's Definitions: assets and checks, `sync_job`, the rollback and release jobs (and `reconcile_apps_job`
with `sync.apps`), the daily schedule, the
bucket sensor, the webhook resource and the JSON hand-off IO manager. Empty when the `sync:` section is absent.

`sync_job` runs carry `difyops/sync_target` (the dataset ids): the instance's `tag_concurrency_limits` queue a
second sync of the same datasets behind the first (runs.py)."""

from __future__ import annotations

import dagster as dg

from difyops_dagster.settings import Settings
from difyops_dagster.storage.resources import build_artifact_store_resource, build_s3_resource
from difyops_dagster.sync.app_rebinding import build_reconcile_apps_job
from difyops_dagster.sync.assets import GROUP, HANDOFF_IO, build_sync_assets
from difyops_dagster.sync.handoff import SyncHandoffIOManager
from difyops_dagster.sync.promotion import build_active_colour_asset, build_release_job, build_rollback_job
from difyops_dagster.sync.resources import BucketNotificationsResource, SyncWebhookResource
from difyops_dagster.sync.runs import SYNC_JOB, TARGET_TAG, sync_target
from difyops_dagster.sync.schedules import build_daily_schedule
from difyops_dagster.sync.sensors import build_bucket_sensor


def build_defs(settings: Settings) -> dg.Definitions:
    sync = settings.sync
    if sync is None:
        return dg.Definitions()
    sync_job = dg.define_asset_job(
        SYNC_JOB,
        selection=dg.AssetSelection.groups(GROUP),
        description="List the bucket, sync the standby dataset, promote it when its checks pass.",
        tags={"difyops/feature": "sync", TARGET_TAG: sync_target(sync.targets())},
    )
    assets = build_sync_assets(sync)
    jobs: list = [sync_job]
    if sync.mode == "blue_green":
        assets.append(build_active_colour_asset(sync))
        jobs += [build_rollback_job(sync), build_release_job(sync)]
        if sync.apps:
            jobs.append(build_reconcile_apps_job(sync))
    webhook = SyncWebhookResource(
        url=sync.webhook_url, token=sync.webhook_token.as_env_var() if sync.webhook_token else None
    )
    keys = settings.s3
    notifications = BucketNotificationsResource(
        queue_url=sync.notifications_queue_url,
        endpoint_url=sync.notifications_endpoint_url,
        region_name=keys.region_name,
        aws_access_key_id=keys.access_key_id.as_env_var() if keys.access_key_id else None,
        aws_secret_access_key=keys.secret_access_key.as_env_var() if keys.secret_access_key else None,
    )
    artifacts = build_artifact_store_resource(settings.storage, build_s3_resource(settings.s3))
    return dg.Definitions(
        assets=assets,
        jobs=jobs,
        schedules=[build_daily_schedule(sync, sync_job)],
        sensors=[build_bucket_sensor(sync, sync_job)],
        resources={
            "sync_webhook": webhook,
            "bucket_notifications": notifications,
            HANDOFF_IO: SyncHandoffIOManager(artifacts=artifacts),
        },
    )
