"""The workflow runs' Definitions: an asset, a resource and (optionally) a schedule per app, the job that runs
them all, and a sensor per upstream asset named in `run_after` (e.g. run after the sync promotes a colour)."""

import dagster as dg

from difyops_dagster.settings import Settings
from difyops_dagster.workflows.assets import GROUP, WorkflowAppResource, asset_name, build_workflow_asset, resource_key
from difyops_dagster.workflows.config import WorkflowAppSettings


def _schedule(app: WorkflowAppSettings) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name=f"workflow_{app.name}_schedule",
        target=dg.AssetSelection.assets(asset_name(app)),
        cron_schedule=app.schedule_cron,
        execution_timezone=app.schedule_timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )


def _after_sensor(upstream: str, apps: list[WorkflowAppSettings]) -> dg.SensorDefinition:
    """Runs `apps` when `upstream` materializes; for `active_colour`, only when the colour actually changed."""
    job = dg.define_asset_job(
        f"workflows_after_{upstream.replace('/', '_')}_job", selection=[asset_name(a) for a in apps]
    )

    @dg.asset_sensor(
        name=f"workflows_after_{upstream.replace('/', '_')}_sensor",
        asset_key=dg.AssetKey.from_user_string(upstream),
        job=job,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def after_upstream(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
        materialization = asset_event.asset_materialization
        changed = materialization.metadata.get("changed") if materialization else None
        if changed is not None and not changed.value:
            return dg.SkipReason(f"{upstream} materialized without a change")
        return dg.RunRequest(run_key=f"{upstream}-{asset_event.storage_id}")

    return after_upstream


def build_defs(settings: Settings) -> dg.Definitions:
    workflows = settings.workflows
    if workflows is None or not workflows.apps:
        return dg.Definitions()
    apps = workflows.apps
    upstreams: dict[str, list[WorkflowAppSettings]] = {}
    for app in apps:
        for key in app.run_after:
            upstreams.setdefault(key, []).append(app)
    return dg.Definitions(
        assets=[build_workflow_asset(a) for a in apps],
        resources={resource_key(a): WorkflowAppResource(api_key=a.api_key.as_env_var()) for a in apps},
        jobs=[
            dg.define_asset_job(
                "run_workflow_apps",
                selection=dg.AssetSelection.groups(GROUP),
                description="Run every workflow app once.",
            )
        ],
        schedules=[_schedule(a) for a in apps if a.schedule_cron],
        sensors=[_after_sensor(k, v) for k, v in upstreams.items()],
    )
