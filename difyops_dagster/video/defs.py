"""The video feature's Definitions: the three assets, the per-video job and the dataset job, the sources sensor,
the daily schedule and the site-access resource. Empty when the `video:` section is absent."""

from __future__ import annotations

import dagster as dg

from difyops_dagster.settings import Settings
from difyops_dagster.video.assets import build_video_assets
from difyops_dagster.video.resources import build_site_access_resource
from difyops_dagster.video.schedules import build_daily_schedule
from difyops_dagster.video.sensors import build_sources_sensor

VIDEO_JOB = "video_job"
VIDEO_DATASET_JOB = "video_dataset_job"


def build_defs(settings: Settings) -> dg.Definitions:
    video = settings.video
    if video is None:
        return dg.Definitions()
    video_job = dg.define_asset_job(
        VIDEO_JOB,
        selection=dg.AssetSelection.assets("video_downloads", "video_documents"),
        description="Download one video and build its Markdown document.",
        tags={"difyops/feature": "video"},
    )
    dataset_job = dg.define_asset_job(
        VIDEO_DATASET_JOB,
        selection=dg.AssetSelection.assets("video_dataset"),
        description="Sync every current video document into the Dify dataset.",
        tags={"difyops/feature": "video"},
    )
    return dg.Definitions(
        assets=build_video_assets(video),
        jobs=[video_job, dataset_job],
        sensors=[build_sources_sensor(video, video_job)],
        schedules=[build_daily_schedule(video, dataset_job)],
        resources={"video_site_access": build_site_access_resource(video)},
    )
