"""`video_daily_schedule`: the seed's daily run, as a sync of every current video document into the dataset.

New videos are found by `video_sources_sensor` and downloaded in their own runs; the daily sync brings their
documents into Dify and repairs whatever drifted there (a document deleted by hand, an upload cut off).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from difyops_dagster.video.config import VideoSettings

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition


def build_daily_schedule(settings: VideoSettings, job: UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="video_daily_schedule",
        job=job,
        cron_schedule=settings.schedule_cron,
        execution_timezone=settings.schedule_timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Syncs every current video document into the dataset at `{settings.schedule_cron}` "
        f"({settings.schedule_timezone}).",
    )
