"""The sync bench of the crash suite: one bucket of 300 files and a blue/green pair per worker, changed a little
before each kill cycle, and what each colour must hold.

`expected[colour]` is the bucket as it was when that colour last finished a sync: the active colour must hold it
exactly while a run is killed (a run only writes the standby), and after the repair run the colour it synced
holds today's bucket exactly while the other still holds its own last sync.
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import parse_settings
from difyops_dagster.sync.colour import ColourState, load_state
from difyops_dagster.sync.naming import document_name
from difyops_dagster_tests.hardening.crashes import Run, RunServer, SlowWebhook, dataset_documents, exact_problems

KEY_VAR = "DIFYOPS_CRASH_DATASET_KEY"
STATE_KEY = "_difyops/active-colour.json"
FILES = 300
SYNC_STEPS = ["job=sync_job"]


class SyncBench:
    def __init__(self, standin, s3_server, server: RunServer, home: Path, webhook: SlowWebhook, seed: int):
        self.server = server
        self.standin = standin
        self.admin = standin.admin
        self.s3 = s3_server.client()
        self.webhook = webhook
        self.home = home
        self.rng = random.Random(seed)
        self.bucket = f"crash-{uuid.uuid4().hex[:12]}"
        self.s3.create_bucket(Bucket=self.bucket)
        self.env = {
            KEY_VAR: standin.dataset_key,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        self.files: dict[str, str] = {}
        self.serial = 0
        self.runs = 0
        self._new_datasets()
        for _ in range(FILES):
            self._add()
        self.config_path = home / "difyops.yaml"
        self.config_path.write_text(yaml.safe_dump(self.config(), allow_unicode=True))
        (home / "dagster").mkdir(exist_ok=True)
        (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    # --- setup ---

    def _new_datasets(self) -> None:
        self.blue = self.admin.create_dataset(f"crash-blue-{uuid.uuid4().hex[:6]}")["id"]
        self.green = self.admin.create_dataset(f"crash-green-{uuid.uuid4().hex[:6]}")["id"]
        self.ids = {"blue": self.blue, "green": self.green}
        self.expected: dict[str, dict[str, str]] = {"blue": {}, "green": {}}
        self.s3.delete_object(Bucket=self.bucket, Key=STATE_KEY)

    def config(self) -> dict[str, Any]:
        return {
            "dify": {
                "base_url": self.standin.api_url,
                "dataset_api_key": {"env": KEY_VAR},
                "max_retries": 2,
                "backoff_factor_s": 0.01,
                "rate_limit_per_second": 0,
            },
            "s3": {
                "endpoint_url": self.s3.meta.endpoint_url,
                "access_key_id": {"env": "AWS_ACCESS_KEY_ID"},
                "secret_access_key": {"env": "AWS_SECRET_ACCESS_KEY"},
            },
            "storage": {"kind": "local", "local_dir": str(self.home / "artifacts")},
            "sync": {
                "bucket": self.bucket,
                "blue_dataset_id": self.blue,
                "green_dataset_id": self.green,
                "upload_concurrency": 4,
                "indexing_poll_s": 0.05,
                "indexing_timeout_s": 60,
                "max_delete_ratio": 1,
                "webhook_url": self.webhook.url,
            },
        }

    def recover_if_reset(self) -> None:
        """Another module on this worker may have reset the stand-in: start again from empty datasets."""
        known = {d["id"] for d in self.admin.state()["datasets"]}
        if not {self.blue, self.green} <= known:
            self._new_datasets()
            self.config_path.write_text(yaml.safe_dump(self.config(), allow_unicode=True))

    # --- the bucket ---

    def _add(self) -> None:
        self.serial += 1
        key = f"docs/team {self.serial % 7}/note {self.serial:04d}.md"
        self._put(key, f"# note {self.serial}\n\nrevision 1 of {key}\n")

    def _put(self, key: str, body: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body.encode())
        self.files[key] = body

    def change(self, updates: int = 24, deletes: int = 8, adds: int = 8) -> None:
        """A day's changes: some files edited, some removed, some new (the bucket stays near 300 files)."""
        keys = sorted(self.files)
        for key in self.rng.sample(keys, updates):
            revision = int(self.files[key].rsplit("revision ", 1)[1].split()[0]) + 1
            self._put(key, f"# edited\n\nrevision {revision} of {key}\n")
        for key in self.rng.sample(sorted(set(keys)), deletes):
            self.s3.delete_object(Bucket=self.bucket, Key=key)
            del self.files[key]
        for _ in range(adds):
            self._add()

    # --- colours and datasets ---

    def state(self) -> ColourState:
        return load_state(self.s3, self.bucket, STATE_KEY)

    def planned(self, colour: str) -> dict[str, int]:
        """The writes a sync of `colour` must make from a clean state: deletes and uploads."""
        held = self.expected[colour]
        uploads = sum(1 for key, body in self.files.items() if held.get(key) != body)
        return {"delete": sum(1 for key in held if key not in self.files), "upload": uploads}

    def problems(self, colour: str, expected: dict[str, str]) -> list[str]:
        documents = dataset_documents(self.admin, self.ids[colour])
        return [f"{colour}: {p}" for p in exact_problems(documents, expected, {k: document_name(k) for k in expected})]

    # --- runs ---

    def runner_env(self) -> dict[str, str]:
        return {**self.env, "DIFYOPS_CONFIG": str(self.config_path), "DAGSTER_HOME": str(self.home / "dagster")}

    def launch(self) -> Run:
        """The run to kill, in a process of its own."""
        self.runs += 1
        return self.server.launch(self.runner_env(), SYNC_STEPS, self.home / f"run-{self.runs}.log")

    def repair_run(self, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
        """The next run, unkilled, in this process (its instance is not the killed run's)."""
        defs = build_definitions(parse_settings(self.config(), self.env))
        return defs.resolve_job_def("sync_job").execute_in_process(instance=instance, raise_on_error=False)

    def settle(self, instance: dg.DagsterInstance, need_deletes: bool) -> int:
        """Make this cycle's starting point sound, whatever came before: when a colour does not hold what it should
        (an earlier cell failed half-way) or the cycle needs deletes the standby cannot have (it is empty, e.g. the
        first cycles), plain in-process syncs bring both colours up to date first. Returns how many ran."""
        syncs = 0
        while syncs < 3:
            broken = any(self.problems(c, self.expected[c]) for c in ("blue", "green"))
            if not broken and not (need_deletes and self.planned(self.state().standby)["delete"] == 0):
                return syncs
            if broken:
                self.expected = {"blue": {}, "green": {}}
                for colour in ("blue", "green"):
                    documents = dataset_documents(self.admin, self.ids[colour])
                    self.expected[colour] = {d["metadata"].get("source_key"): d.get("text") for d in documents}
            assert self.repair_run(instance).success, "a settling sync failed"
            self.expected[self.state().active or "blue"] = dict(self.files)
            syncs += 1
            self.change()
        raise AssertionError("the bench could not be settled")
