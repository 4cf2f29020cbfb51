"""The report bench of the crash suite: a week of daily reports (one run over 5 to 11 October 2026) written to a
local folder or an S3 prefix, and the files a clean run writes, to hold every killed and repaired run against.

Report files carry no clock, so a file of the same key must be byte-identical to the clean run's: a file that
exists but differs is half-written (or stale), and after the repair every file must exist and match.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import parse_settings
from difyops_dagster.storage.artifacts import LocalArtifactStore, S3ArtifactStore
from difyops_dagster_tests.hardening.crash_runner import run_steps
from difyops_dagster_tests.hardening.crashes import Run, RunServer
from difyops_dagster_tests.reports.samples import CONSOLE_EMAIL, CONSOLE_PASSWORD
from difyops_dagster_tests.reports.scenario import BOT_KEY, ROWS

WEEK = "2026-10-05...2026-10-11"
REPORT_STEPS = [f"job=workflow_report_daily_job@{WEEK}"]
ENV = {"CRASH_BOT_KEY": BOT_KEY, "CRASH_CONSOLE_PASSWORD": CONSOLE_PASSWORD}
REPORTS = "reports/daily/"
ROWS_PREFIX = "reports/logs/"
# Every call the report run makes to Dify (logs, run details, node executions, console login), counted.
REPORT_CALLS = {"dify": {"path": r"^/(v1|console)/"}}


class ReportBench:
    def __init__(self, standin, s3_server, server: RunServer, home: Path):
        self.standin = standin
        self.server = server
        self.home = home
        self.s3_server = s3_server
        self.s3 = s3_server.client()
        self.runs = 0
        self.env = {**ENV, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
        self.bucket = f"crash-reports-{uuid.uuid4().hex[:8]}"
        self.s3.create_bucket(Bucket=self.bucket)
        self.app_id = ""
        self.reference: dict[str, bytes] = {}

    def ensure_app(self) -> None:
        """The app with October's runs (again, if another module reset the stand-in)."""
        apps = self.standin.admin.state().get("apps") or []
        if not any(isinstance(a, dict) and a.get("id") == self.app_id for a in apps) or not self.app_id:
            self.app_id = self.standin.admin.create_app(f"support-{uuid.uuid4().hex[:6]}", BOT_KEY)["id"]
            self.standin.admin.seed_logs(self.app_id, ROWS)
            self.standin.admin.set_console_account(CONSOLE_EMAIL, CONSOLE_PASSWORD)
            self.reference = {}

    def config(self, storage: dict[str, Any]) -> dict[str, Any]:
        return {
            "dify": {
                "base_url": self.standin.api_url,
                "rate_limit_per_second": 0,
                "backoff_factor_s": 0.01,
                "max_retries": 1,
                "console": {
                    "url": self.standin.url,
                    "email": CONSOLE_EMAIL,
                    "password": {"env": "CRASH_CONSOLE_PASSWORD"},
                },
            },
            "s3": {
                "endpoint_url": self.s3_server.endpoint_url,
                "access_key_id": {"env": "AWS_ACCESS_KEY_ID"},
                "secret_access_key": {"env": "AWS_SECRET_ACCESS_KEY"},
            },
            "storage": storage,
            "reports": {
                "apps": [{"name": "support_bot", "api_key": {"env": "CRASH_BOT_KEY"}, "app_id": self.app_id}],
                "timezone": "Asia/Shanghai",
                "start_date": "2026-10-01",
                "enrich_workers": 2,
            },
        }

    def storage(self, kind: str, name: str) -> tuple[dict[str, Any], Any]:
        """Settings and a store for a fresh place to write: a folder, or a prefix of the bench's bucket."""
        if kind == "local":
            folder = self.home / name
            return {"kind": "local", "local_dir": str(folder)}, LocalArtifactStore(folder)
        prefix = f"{name}/"
        return {"kind": "s3", "bucket": self.bucket, "prefix": prefix}, S3ArtifactStore(self.s3, self.bucket, prefix)

    def run_in_process(self, storage: dict[str, Any]) -> bool:
        with dg.instance_for_test() as instance:
            defs = build_definitions(parse_settings(self.config(storage), self.env))
            return run_steps(defs, instance, REPORT_STEPS)

    def reference_files(self) -> dict[str, bytes]:
        """The week's report files as a clean, unkilled run writes them."""
        if not self.reference:
            storage, store = self.storage("local", f"reference-{uuid.uuid4().hex[:6]}")
            assert self.run_in_process(storage), "the clean reference run failed"
            self.reference = report_files(store)
            assert len(self.reference) == 7 * 4, sorted(self.reference)
        return self.reference

    def launch(self, storage: dict[str, Any]) -> Run:
        self.runs += 1
        config = self.home / f"difyops-{self.runs}.yaml"
        config.write_text(yaml.safe_dump(self.config(storage)))
        home = self.home / "dagster"
        home.mkdir(exist_ok=True)
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        env = {**self.env, "DIFYOPS_CONFIG": str(config), "DAGSTER_HOME": str(home)}
        return self.server.launch(env, REPORT_STEPS, self.home / f"run-{self.runs}.log")


def report_files(store) -> dict[str, bytes]:
    return {info.key: store.get_bytes(info.key) for info in store.list(REPORTS)}


def half_written(store, reference: dict[str, bytes]) -> list[str]:
    """Report files a reader would take (visible keys) that are not exactly what a clean run writes."""
    return [f"{key}: {len(data)} bytes differ" for key, data in report_files(store).items()
            if reference.get(key) != data]  # fmt: skip


def leftovers(store) -> list[str]:
    """Hidden temp files in a local store (a write killed between its temp file and the rename leaves one)."""
    if not isinstance(store, LocalArtifactStore) or not store.root.is_dir():
        return []
    return sorted(str(p.relative_to(store.root)) for p in store.root.rglob(".*") if p.is_file())
