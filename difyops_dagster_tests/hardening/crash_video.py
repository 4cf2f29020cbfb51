"""The video bench of the crash suite: a feed of six LocalTube videos with captions on the local sample site, and
a video batch as the daemon runs it (the sources sensor, one run per new video, then the dataset sync).

Each cycle writes into a fresh dataset and a fresh artifact folder, so the killed batch starts from nothing and
the repair batch (a fresh instance: every listed video is requested again, as a run retry would) must finish it.
A clean batch gives the documents every repaired dataset must hold, name for name and byte for byte.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import parse_settings
from difyops_dagster.storage.artifacts import LocalArtifactStore
from difyops_dagster_tests.hardening.crash_runner import run_steps
from difyops_dagster_tests.hardening.crashes import Run, RunServer, dataset_documents
from difyops_dagster_tests.video.sample_site import MediaSite

VIDEOS = 6
VIDEO_STEPS = ["sensor=video_sources_sensor", "job=video_dataset_job"]
KEY_VAR = "DIFYOPS_CRASH_VIDEO_KEY"
LOCALTUBE = "difyops_dagster_tests.video.localtube:LocalTubeIE"


def publish_feed(site: MediaSite) -> str:
    site.subtitle("subs/auto.en.vtt", "youtube_auto.en.vtt")
    site.media("tube/media/clip.mp4")
    items = []
    for i in range(VIDEOS):
        page = site.tube(
            f"crash{i}",
            f"Crash course part {i}",
            "/tube/media/clip.mp4",
            [{"baseUrl": "/subs/auto.en.vtt", "languageCode": "en", "kind": "asr", "name": "English"}],
            author="Local Channel",
            uploadDate=f"2026030{i + 1}",
        )
        items.append({"title": f"Part {i}", "link": page})
    return site.feed("feed.xml", "Crash course", items)


class VideoBench:
    def __init__(self, standin, site: MediaSite, server: RunServer, home: Path):
        self.standin = standin
        self.site = site
        self.server = server
        self.home = home
        self.feed = publish_feed(site)
        self.env = {KEY_VAR: standin.dataset_key}
        self.runs = 0
        self.reference: dict[str, tuple[str, str]] = {}

    def fresh(self, name: str) -> tuple[str, Path]:
        """A new dataset and artifact folder."""
        return self.standin.admin.create_dataset(f"{name}-{uuid.uuid4().hex[:6]}")["id"], self.home / name

    def config(self, dataset_id: str, folder: Path) -> dict[str, Any]:
        return {
            "dify": {
                "base_url": self.standin.api_url,
                "dataset_api_key": {"env": KEY_VAR},
                "max_retries": 1,
                "backoff_factor_s": 0.01,
                "rate_limit_per_second": 0,
            },
            "storage": {"kind": "local", "local_dir": str(folder)},
            "video": {
                "dataset_id": dataset_id,
                "sources": [{"name": "team", "url": self.feed}],
                "sleep_interval_s": 0,
                "retries": 0,
                "socket_timeout_s": 10,
                "extra_extractors": [LOCALTUBE],
                "indexing_poll_s": 0.05,
                "indexing_timeout_s": 30,
                "paragraph_seconds": 30,
            },
        }

    def run_in_process(self, dataset_id: str, folder: Path) -> bool:
        with dg.instance_for_test() as instance:
            defs = build_definitions(parse_settings(self.config(dataset_id, folder), self.env))
            return run_steps(defs, instance, VIDEO_STEPS)

    def documents(self, dataset_id: str) -> dict[str, tuple[str, str]]:
        return {
            d["metadata"].get("source_key"): (d["name"], d["text"])
            for d in dataset_documents(self.standin.admin, dataset_id)
        }

    def reference_documents(self) -> dict[str, tuple[str, str]]:
        if not self.reference:
            dataset_id, folder = self.fresh("reference")
            assert self.run_in_process(dataset_id, folder), "the clean reference batch failed"
            self.reference = self.documents(dataset_id)
            self.reference_folder = folder
            assert len(self.reference) == VIDEOS, sorted(self.reference)
        return self.reference

    def launch(self, dataset_id: str, folder: Path) -> Run:
        self.runs += 1
        config = self.home / f"difyops-{self.runs}.yaml"
        config.write_text(yaml.safe_dump(self.config(dataset_id, folder)))
        home = self.home / f"dagster-{self.runs}"  # a fresh instance: the batch's videos are new partitions there
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = {**self.env, "DIFYOPS_CONFIG": str(config), "DAGSTER_HOME": str(home)}
        return self.server.launch(env, VIDEO_STEPS, self.home / f"run-{self.runs}.log")


def torn_documents(folder: Path, reference: Path) -> list[str]:
    """Markdown documents a reader would take that are not byte for byte what the clean batch wrote."""
    store, clean = LocalArtifactStore(folder), LocalArtifactStore(reference)
    return [i.key for i in store.list() if i.key.endswith(".md") and store.get_bytes(i.key) != clean.get_bytes(i.key)]
