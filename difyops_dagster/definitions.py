"""The code location: check the settings, then merge each feature's Definitions.

Nothing here does I/O beyond reading the settings file: a wrong or missing setting fails the load (so
`dg check defs` / `dagster definitions validate` exit non-zero) with a message naming the setting.
"""

from __future__ import annotations

import dagster as dg

from difyops_dagster.config_model import SettingsError
from difyops_dagster.dify.resource import build_console_resource, build_dify_resource
from difyops_dagster.execution.defs import build_defs as build_execution_defs
from difyops_dagster.notify.defs import build_defs as build_notify_defs
from difyops_dagster.reports.defs import build_defs as build_reports_defs
from difyops_dagster.settings import Settings, load_settings
from difyops_dagster.storage.resources import build_artifact_store_resource, build_s3_resource
from difyops_dagster.sync.defs import build_defs as build_sync_defs
from difyops_dagster.video.defs import build_defs as build_video_defs
from difyops_dagster.workflows.defs import build_defs as build_workflows_defs


def build_core_defs(settings: Settings) -> dg.Definitions:
    """The shared resources every feature uses: `dify`, `dify_console` (the optional console login), `s3` and
    `artifacts`."""
    s3 = build_s3_resource(settings.s3)
    return dg.Definitions(
        resources={
            "dify": build_dify_resource(settings.dify),
            "dify_console": build_console_resource(settings.dify),
            "s3": s3,
            "artifacts": build_artifact_store_resource(settings.storage, s3),
        }
    )


def build_definitions(settings: Settings) -> dg.Definitions:
    defs = dg.Definitions.merge(
        build_core_defs(settings),
        build_sync_defs(settings),
        build_video_defs(settings),
        build_workflows_defs(settings),
        build_reports_defs(settings),
        build_notify_defs(settings),
        build_execution_defs(settings),
    )
    check_run_after(settings, defs)
    return defs


def check_run_after(settings: Settings, defs: dg.Definitions) -> None:
    """A `run_after` key that names no asset here but whose last part does (`active_colour` where the syncs of
    `syncs:` have `handbook/active_colour`) is refused, naming the keys meant.

    Dagster accepts a dependency on any key (another code location's asset is a legitimate one, drawn as an
    external asset), so only this mistake is certain: the sensor would wait for a key nothing materializes."""
    known = {key.to_user_string() for key in defs.resolve_asset_graph().materializable_asset_keys}
    for index, app in enumerate(settings.workflows.apps if settings.workflows else []):
        for key in app.run_after:
            meant = sorted(k for k in known if k.rsplit("/", 1)[-1] == key.rsplit("/", 1)[-1])
            if key not in known and meant:
                raise SettingsError(
                    f"workflows.apps.{index}.run_after: no asset {key} in this code location; did you mean "
                    f"{' or '.join(meant)}?"
                )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(load_settings())
