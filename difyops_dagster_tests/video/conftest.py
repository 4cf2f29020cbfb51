"""A local video site and a video world over it, for tests that let yt-dlp do real extraction without internet.

`site`: the sample site (sample_site.py) on a free port of 127.0.0.1, empty until a test publishes pages; the
clip is made with ffmpeg once per session. Its request log proves what was fetched, and that nothing was.

`world`: that site, the Dify stand-in with one dataset, settings and Definitions, and a throwaway instance.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import Settings, parse_settings
from difyops_dagster_tests.video.sample_site import MediaSite, make_clip

KEY_VAR = "DIFYOPS_TEST_DATASET_KEY"
LOCALTUBE = "difyops_dagster_tests.video.localtube:LocalTubeIE"


@pytest.fixture(scope="session")
def clip_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("media") / "clip.mp4")


@pytest.fixture
def site(clip_file: Path, tmp_path: Path) -> Iterator[MediaSite]:
    served = MediaSite(tmp_path / "site", clip_file)
    try:
        yield served
    finally:
        served.close()


@dataclass
class VideoWorld:
    standin: Any
    site: MediaSite
    dataset_id: str
    env: dict
    artifacts_dir: str
    instance: dg.DagsterInstance
    sources: list[dict] = field(default_factory=list)
    top_level: dict = field(default_factory=dict)  # e.g. `s3` and `storage` for artifacts in a bucket

    def config(self, **video: Any) -> dict:
        return {
            "dify": {
                "base_url": self.standin.api_url,
                "dataset_api_key": {"env": KEY_VAR},
                "max_retries": 1,
                "backoff_factor_s": 0.01,
                "rate_limit_per_second": 0,
            },
            "storage": {"kind": "local", "local_dir": self.artifacts_dir},
            "video": {
                "dataset_id": self.dataset_id,
                "sources": self.sources,
                "sleep_interval_s": 0,
                "retries": 0,
                "socket_timeout_s": 10,
                "extra_extractors": [LOCALTUBE],
                "indexing_poll_s": 0.05,
                "indexing_timeout_s": 20,
                "paragraph_seconds": 30,
                **video,
            },
            **self.top_level,
        }

    def settings(self, **video: Any) -> Settings:
        return parse_settings(self.config(**video), self.env)

    def defs(self, **video: Any) -> dg.Definitions:
        return build_definitions(self.settings(**video))

    def tick(self, defs: dg.Definitions, cursor: str | None = None):
        """One sensor evaluation; the partitions it asks for are added, as the daemon would."""
        sensor = defs.resolve_sensor_def("video_sources_sensor")
        resources = {k: defs.resources[k] for k in ("artifacts", "video_site_access")}
        with dg.build_sensor_context(instance=self.instance, cursor=cursor, resources=resources) as context:
            result = sensor(context)
            if not isinstance(result, dg.SensorResult):
                return result, context.cursor
        for request in result.dynamic_partitions_requests or []:
            self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        return result, result.cursor

    def run_video(self, defs: dg.Definitions, key: str, refresh: bool = False) -> dg.ExecuteInProcessResult:
        run_config = {"ops": {"video_downloads": {"config": {"refresh": True}}}} if refresh else None
        job = defs.resolve_job_def("video_job")
        return job.execute_in_process(
            partition_key=key, instance=self.instance, run_config=run_config, raise_on_error=False
        )

    def sync(self, defs: dg.Definitions) -> dg.ExecuteInProcessResult:
        job = defs.resolve_job_def("video_dataset_job")
        return job.execute_in_process(instance=self.instance, raise_on_error=False)

    def documents(self) -> list[dict]:
        return self.standin.admin.documents(self.dataset_id)

    def writes(self) -> list[dict]:
        return [
            r
            for r in self.standin.admin.request_log()
            if r["method"] in ("POST", "PATCH", "DELETE") and "/metadata" not in r["path"]
        ]


@pytest.fixture
def world(standin, site, monkeypatch, tmp_path) -> Iterator[VideoWorld]:
    env = {KEY_VAR: standin.dataset_key}
    monkeypatch.setenv(KEY_VAR, standin.dataset_key)
    dataset_id = standin.admin.create_dataset("videos")["id"]
    with dg.instance_for_test() as instance:
        yield VideoWorld(standin, site, dataset_id, env, str(tmp_path / "artifacts"), instance)
