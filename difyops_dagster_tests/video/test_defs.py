"""`build_defs`: nothing without a `video:` section; with one, the three assets in group `video`, the per-video job on
the dynamic partitions `videos`, the dataset job, the sources sensor, the daily schedule in the configured timezone,
and the site-access resource whose secrets are environment variables, not values.
"""

from __future__ import annotations

import dagster as dg

from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import parse_settings
from difyops_dagster.video.defs import build_defs

ENV = {"K": "dataset-key", "PROXY": "http://user:secret-pw@proxy:3128"}


def settings(video: dict | None):
    data = {"dify": {"base_url": "http://127.0.0.1:5001", "dataset_api_key": {"env": "K"}}}
    if video is not None:
        data["video"] = video
    return parse_settings(data, ENV)


VIDEO = {
    "dataset_id": "0b1e0000-0000-4000-8000-000000000001",
    "sources": [{"name": "talks", "url": "https://example.com/list"}],
    "proxy": {"env": "PROXY"},
    "schedule_cron": "30 2 * * *",
    "schedule_timezone": "Asia/Shanghai",
}


def test_no_video_section_no_definitions():
    defs = build_defs(settings(None))
    assert list(defs.resolve_all_asset_keys()) == []


def test_the_video_feature_wires_assets_jobs_sensor_schedule_and_resource():
    defs = build_definitions(settings(VIDEO))  # with the core resources (`dify`, `artifacts`) it relies on
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {"video_downloads", "video_documents", "video_dataset"}
    for key in keys:
        assert graph.get(dg.AssetKey(key)).group_name == "video"
    downloads = graph.get(dg.AssetKey("video_downloads"))
    assert isinstance(downloads.partitions_def, dg.DynamicPartitionsDefinition)
    assert downloads.partitions_def.name == "videos"
    assert graph.get(dg.AssetKey("video_dataset")).partitions_def is None
    assert defs.resolve_job_def("video_job").partitions_def.name == "videos"
    assert defs.resolve_job_def("video_dataset_job") is not None
    schedule = defs.resolve_schedule_def("video_daily_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 2 * * *", "Asia/Shanghai")
    sensor = defs.resolve_sensor_def("video_sources_sensor")
    assert sensor.minimum_interval_seconds == 3600
    access = defs.resources["video_site_access"]
    assert "secret-pw" not in repr(access)
    dg.Definitions.validate_loadable(defs)
