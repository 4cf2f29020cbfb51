"""The sync bench of the crash suite: a sync world (`open_world`, the same one every sync test uses) whose bucket
holds 300 files, changed a little before each kill cycle, and what each colour must hold.

`expected[colour]` is the bucket as it was when that colour last finished a sync: the active colour must hold it
exactly while a run is killed (a run only writes the standby), and after the repair run the colour it synced
holds today's bucket exactly while the other still holds its own last sync.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import parse_settings
from difyops_dagster.sync.colour import ColourState
from difyops_dagster.sync.naming import document_name
from difyops_dagster_tests.hardening.crashes import Run, RunServer, SlowWebhook, dataset_documents, exact_problems
from difyops_dagster_tests.sync.conftest import SyncWorld

FILES = 300
SYNC_STEPS = ["job=sync_job"]
BENCH_SYNC = {"upload_concurrency": 4, "indexing_timeout_s": 60, "max_delete_ratio": 1}


class SyncBench:
    def __init__(self, world: SyncWorld, server: RunServer, home: Path, webhook: SlowWebhook, seed: int):
        self.world = world
        self.server = server
        self.admin = world.standin.admin
        self.s3 = world.s3
        self.bucket = world.bucket
        self.webhook = webhook
        self.home = home
        self.rng = random.Random(seed)
        self.files: dict[str, str] = {}
        self.serial = 0
        self.runs = 0
        self.expected: dict[str, dict[str, str]] = {"blue": {}, "green": {}}
        for _ in range(FILES):
            self._add()
        self.config_path = home / "difyops.yaml"
        self._write_config()
        (home / "dagster").mkdir(exist_ok=True)
        (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    @property
    def ids(self) -> dict[str, str]:
        return {"blue": self.world.blue, "green": self.world.green}

    def config(self) -> dict[str, Any]:
        return self.world.config(**BENCH_SYNC, webhook_url=self.webhook.url)

    def _write_config(self) -> None:
        self.config_path.write_text(yaml.safe_dump(self.config(), allow_unicode=True))

    def recover_if_reset(self) -> None:
        """Another module on this worker may have reset the stand-in: start again from empty datasets."""
        known = {d["id"] for d in self.admin.state()["datasets"]}
        if not set(self.ids.values()) <= known:
            self.world.renew_datasets()
            self.expected = {"blue": {}, "green": {}}
            self._write_config()

    # --- the bucket ---

    def _add(self) -> None:
        self.serial += 1
        key = f"docs/team {self.serial % 7}/note {self.serial:04d}.md"
        self._put(key, f"# note {self.serial}\n\nrevision 1 of {key}\n")

    def _put(self, key: str, body: str) -> None:
        self.world.put(key, body)
        self.files[key] = body

    def change(self, updates: int = 24, deletes: int = 8, adds: int = 8) -> None:
        """A day's changes: some files edited, some removed, some new (the bucket stays near 300 files)."""
        keys = sorted(self.files)
        for key in self.rng.sample(keys, updates):
            revision = int(self.files[key].rsplit("revision ", 1)[1].split()[0]) + 1
            self._put(key, f"# edited\n\nrevision {revision} of {key}\n")
        for key in self.rng.sample(sorted(set(keys)), deletes):
            self.world.delete(key)
            del self.files[key]
        for _ in range(adds):
            self._add()

    # --- colours and datasets ---

    def state(self) -> ColourState:
        return self.world.state()

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
        return {**self.world.env, "DIFYOPS_CONFIG": str(self.config_path), "DAGSTER_HOME": str(self.home / "dagster")}

    def launch(self) -> Run:
        """The run to kill, in a process of its own."""
        self.runs += 1
        return self.server.launch(self.runner_env(), SYNC_STEPS, self.home / f"run-{self.runs}.log")

    def repair_run(self, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
        """The next run, unkilled, in this process (its instance is not the killed run's)."""
        defs = build_definitions(parse_settings(self.config(), self.world.env))
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
