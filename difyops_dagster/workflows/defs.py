"""The workflow runs' Definitions: per app an asset (with its check), a resource holding its key and, when
configured, a schedule; the job `run_workflow_apps` that runs them all; and a sensor per upstream asset named
in `run_after`. Empty when the `workflows` section is absent or lists no app.
"""

from __future__ import annotations

import dagster as dg

from difyops_dagster.settings import Settings
from difyops_dagster.workflows.assets import GROUP, WorkflowAppResource, build_workflow_asset, resource_key
from difyops_dagster.workflows.config import WorkflowAppSettings
from difyops_dagster.workflows.schedules import build_workflow_schedule
from difyops_dagster.workflows.sensors import build_run_after_sensor

RUN_ALL_JOB = "run_workflow_apps"


def build_defs(settings: Settings) -> dg.Definitions:
    workflows = settings.workflows
    if workflows is None or not workflows.apps:
        return dg.Definitions()
    apps = workflows.apps
    followers: dict[str, list[WorkflowAppSettings]] = {}
    for app in apps:
        for upstream in app.run_after:
            followers.setdefault(upstream, []).append(app)
    return dg.Definitions(
        assets=[build_workflow_asset(app) for app in apps],
        resources={resource_key(app): WorkflowAppResource(api_key=app.api_key.as_env_var()) for app in apps},
        jobs=[
            dg.define_asset_job(
                RUN_ALL_JOB,
                selection=dg.AssetSelection.groups(GROUP),
                description="Runs every configured workflow app once, each with its default inputs; one app "
                "failing does not stop the others.",
            )
        ],
        schedules=[build_workflow_schedule(app) for app in apps if app.schedule_cron],
        sensors=[build_run_after_sensor(upstream, group) for upstream, group in followers.items()],
    )
