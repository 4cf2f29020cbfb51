"""The code location: check the settings, then merge each feature's Definitions.

Nothing here does I/O beyond reading the settings file: a wrong or missing setting fails the load (so
`dg check defs` / `dagster definitions validate` exit non-zero) with a message naming the setting.
"""

from __future__ import annotations

import dagster as dg

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
    return dg.Definitions.merge(
        build_core_defs(settings),
        build_sync_defs(settings),
        build_video_defs(settings),
        build_workflows_defs(settings),
        build_reports_defs(settings),
        build_notify_defs(settings),
        build_execution_defs(settings),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(load_settings())
