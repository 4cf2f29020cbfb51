"""The syncs' Definitions: for the `sync:` section and each entry of `syncs:`, its assets and checks, its sync
job, the rollback and release jobs (and the apps' reconcile job with `apps`), the daily schedule, the bucket
sensor and the webhook and notification resources (named as scope.py says); and the JSON hand-off IO manager
they share. Empty when neither section is there.

A sync job's runs carry `difyops/sync_target` (the dataset ids): the instance's `tag_concurrency_limits` queue a
second sync of the same datasets behind the first (runs.py), while syncs of other datasets run side by side."""

from __future__ import annotations

import dagster as dg

from difyops_dagster.settings import Settings
from difyops_dagster.storage.resources import build_artifact_store_resource, build_s3_resource
from difyops_dagster.sync.app_rebinding import build_reconcile_apps_job
from difyops_dagster.sync.assets import HANDOFF_IO, build_sync_assets
from difyops_dagster.sync.handoff import SyncHandoffIOManager
from difyops_dagster.sync.promotion import build_active_colour_asset, build_release_job, build_rollback_job
from difyops_dagster.sync.resources import BucketNotificationsResource, SyncWebhookResource
from difyops_dagster.sync.runs import SYNC_JOB, TARGET_TAG, sync_target
from difyops_dagster.sync.schedules import build_daily_schedule
from difyops_dagster.sync.scope import SyncScope
from difyops_dagster.sync.sensors import build_bucket_sensor


def sync_scopes(settings: Settings) -> list[SyncScope]:
    """One scope per configured sync: the unnamed `sync:` first, then `syncs:` in order."""
    syncs = settings.all_syncs()

    def state_keys(bucket: str) -> tuple[str, ...]:
        return tuple(sorted({s.state_key for s in syncs if s.bucket == bucket}))

    named = [SyncScope(s, s.name, state_keys(s.bucket)) for s in settings.syncs]
    unnamed = [SyncScope(settings.sync, None, state_keys(settings.sync.bucket))] if settings.sync else []
    return unnamed + named


def build_defs(settings: Settings) -> dg.Definitions:
    scopes = sync_scopes(settings)
    if not scopes:
        return dg.Definitions()
    artifacts = build_artifact_store_resource(settings.storage, build_s3_resource(settings.s3))
    shared = dg.Definitions(resources={HANDOFF_IO: SyncHandoffIOManager(artifacts=artifacts)})
    return dg.Definitions.merge(shared, *(build_one_sync_defs(scope, settings) for scope in scopes))


def build_one_sync_defs(scope: SyncScope, settings: Settings) -> dg.Definitions:
    sync = scope.settings
    sync_job = dg.define_asset_job(
        scope.named(SYNC_JOB),
        selection=dg.AssetSelection.groups(scope.group),
        description=f"List the bucket, sync the standby dataset, promote it when its checks pass ({scope.label()}).",
        tags={"difyops/feature": "sync", TARGET_TAG: sync_target(sync.targets())},
    )
    assets = build_sync_assets(scope)
    jobs: list = [sync_job]
    if sync.mode == "blue_green":
        assets.append(build_active_colour_asset(scope))
        jobs += [build_rollback_job(scope), build_release_job(scope)]
        if sync.apps:
            jobs.append(build_reconcile_apps_job(scope))
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
    return dg.Definitions(
        assets=assets,
        jobs=jobs,
        schedules=[build_daily_schedule(scope, sync_job)],
        sensors=[build_bucket_sensor(scope, sync_job)],
        resources={scope.webhook_resource: webhook, scope.notifications_resource: notifications},
    )
