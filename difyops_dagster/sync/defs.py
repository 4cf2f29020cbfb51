"""The sync's Definitions: assets and checks, `sync_job`, the rollback job, the daily schedule, the bucket sensor."""

import dagster as dg

from difyops_dagster.settings import Settings
from difyops_dagster.sync.assets import GROUP, build_sync_assets
from difyops_dagster.sync.resources import SyncWebhookResource
from difyops_dagster.sync.rollback import build_rollback_job
from difyops_dagster.sync.sensors import build_bucket_sensor


def build_defs(settings: Settings) -> dg.Definitions:
    sync = settings.sync
    if sync is None:
        return dg.Definitions()
    sync_job = dg.define_asset_job(
        "sync_job",
        selection=dg.AssetSelection.groups(GROUP),
        description="List the bucket, sync the standby dataset, promote it when its checks pass.",
        tags={"dagster/max_retries": 1},
    )
    jobs = [sync_job]
    if sync.mode == "blue_green":
        jobs.append(build_rollback_job(sync))
    schedule = dg.ScheduleDefinition(
        name="daily_sync_schedule",
        job=sync_job,
        cron_schedule=sync.schedule_cron,
        execution_timezone=sync.schedule_timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    webhook = SyncWebhookResource(
        url=sync.webhook_url, token=sync.webhook_token.as_env_var() if sync.webhook_token else None
    )
    return dg.Definitions(
        assets=build_sync_assets(sync),
        jobs=jobs,
        schedules=[schedule],
        sensors=[build_bucket_sensor(sync, sync_job)],
        resources={"sync_webhook": webhook},
    )
