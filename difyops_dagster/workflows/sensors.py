"""Start workflow apps after an upstream asset materializes, e.g. after the sync promotes a new colour.

An app lists upstream asset keys in `run_after`; the asset then depends on them (the lineage graph shows the
arrow from `active_colour` to `workflow_run_<app>`) and one asset sensor per upstream key starts every app that
named it. A materialization whose metadata says `changed: false` (the sync ran and promoted nothing) starts
nothing. Declarative automation (`AutomationCondition.eager()`) would also start the app, but on every
materialization of the upstream, changed or not, and only once the automation sensor is turned on.
"""

from __future__ import annotations

import dagster as dg

from difyops_dagster.workflows.assets import asset_name
from difyops_dagster.workflows.config import WorkflowAppSettings


def sensor_name(upstream: str) -> str:
    return f"workflows_after_{upstream.replace('/', '_')}_sensor"


def build_run_after_sensor(upstream: str, apps: list[WorkflowAppSettings]) -> dg.SensorDefinition:
    """Runs `apps` (in one run) each time `upstream` materializes with a change."""
    names = ", ".join(app.name for app in apps)
    job = dg.define_asset_job(
        f"workflows_after_{upstream.replace('/', '_')}_job",
        selection=dg.AssetSelection.assets(*[asset_name(app) for app in apps]),
        description=f"The workflow apps that run after {upstream} materializes: {names}.",
    )

    @dg.asset_sensor(
        name=sensor_name(upstream),
        asset_key=dg.AssetKey.from_user_string(upstream),
        job=job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Starts workflow apps {names} when {upstream} materializes with a change.",
    )
    def run_after(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
        materialization = asset_event.asset_materialization
        changed = materialization.metadata.get("changed") if materialization else None
        if changed is not None and changed.value is False:
            return dg.SkipReason(f"{upstream} materialized without a change (run {asset_event.run_id})")
        return dg.RunRequest(
            run_key=f"{upstream}:{asset_event.run_id}:{asset_event.timestamp}",
            tags={"difyops/trigger": f"after {upstream}", "difyops/upstream_run": asset_event.run_id},
        )

    return run_after
