"""A sync world: the stand-in with blue and green datasets, a bucket, settings and Definitions over them.

Every sync test that touches S3 runs once per server in `S3_SERVERS` (`[moto]`, `[seaweedfs]`), except
- `slow` tests (the CLI runs killed mid-sync in test_crash_repair.py, minutes each on two cores): they repair what
  a killed process left in Dify, and their S3 side (listing, GET, the colour-state object) is the one every other
  sync test already takes on both servers;
- tests already a cell of another hardening suite's scoreboard: a test is one cell of one suite.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import pytest

from dify_standin.processes import S3_SERVERS
from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import Settings, parse_settings
from difyops_dagster.sync.colour import ColourState, load_state

KEY_VAR = "DIFYOPS_TEST_DATASET_KEY"
STATE_KEY = "_difyops/active-colour.json"


@dataclass
class SyncWorld:
    standin: Any
    s3: Any
    bucket: str
    blue: str
    green: str
    env: dict
    artifacts_dir: str
    overrides: dict = field(default_factory=dict)
    dify_overrides: dict = field(default_factory=dict)
    instance: dg.DagsterInstance | None = None

    def config(self, **sync: object) -> dict:
        """The settings file's content (also written to disk for CLI runs)."""
        return {
            "dify": {
                "base_url": self.standin.api_url,
                "dataset_api_key": {"env": KEY_VAR},
                "max_retries": 2,
                "backoff_factor_s": 0.01,
                "rate_limit_per_second": 0,
                **self.dify_overrides,
            },
            "s3": {
                "endpoint_url": self.env["S3_ENDPOINT_URL"],
                "access_key_id": {"env": "AWS_ACCESS_KEY_ID"},
                "secret_access_key": {"env": "AWS_SECRET_ACCESS_KEY"},
            },
            "storage": {"kind": "local", "local_dir": self.artifacts_dir},
            "sync": {
                "bucket": self.bucket,
                "blue_dataset_id": self.blue,
                "green_dataset_id": self.green,
                "indexing_poll_s": 0.05,
                "indexing_timeout_s": 20,
                **self.overrides,
                **sync,
            },
        }

    def settings(self, **sync: object) -> Settings:
        return parse_settings(self.config(**sync), self.env)

    def defs(self, **sync: object) -> dg.Definitions:
        return build_definitions(self.settings(**sync))

    def put(self, key: str, body: bytes | str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)

    def run(self, **sync: object) -> dg.ExecuteInProcessResult:
        job = self.defs(**sync).resolve_job_def("sync_job")
        return job.execute_in_process(instance=self.instance, raise_on_error=False)

    def rollback(self, **config: object) -> dg.ExecuteInProcessResult:
        job = self.defs().resolve_job_def("rollback_colour_job")
        run_config = {"ops": {"rollback_active_colour": {"config": config}}} if config else None
        return job.execute_in_process(run_config=run_config, instance=self.instance, raise_on_error=False)

    def renew_datasets(self, **dataset: Any) -> None:
        """A new, empty blue/green pair and no colour state (e.g. after the stand-in was reset under a bench)."""
        self.blue, self.green = new_pair(self.standin, **dataset)
        self.s3.delete_object(Bucket=self.bucket, Key=STATE_KEY)

    def state(self) -> ColourState:
        return load_state(self.s3, self.bucket, STATE_KEY)

    def active(self) -> str | None:
        return self.state().active

    def documents(self, dataset_id: str) -> list[dict]:
        return self.standin.admin.documents(dataset_id)

    def keys_in(self, dataset_id: str) -> list[str]:
        return sorted(d["metadata"].get("source_key", "?") for d in self.documents(dataset_id))

    def writes(self) -> list[dict]:
        """Document writes Dify received since the request log was last cleared (metadata writes excluded)."""
        return [
            r
            for r in self.standin.admin.request_log()
            if r["method"] in ("POST", "PATCH", "DELETE") and "/metadata" not in r["path"]
        ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marked = metafunc.definition.get_closest_marker
    if "s3_server" in metafunc.fixturenames and marked("slow") is None and marked("scoreboard") is None:
        metafunc.parametrize("s3_server", list(S3_SERVERS), indirect=True)


@pytest.fixture
def s3_server(request: pytest.FixtureRequest):
    """The S3 server of this parametrization (moto when the test is not parametrized)."""
    return request.getfixturevalue(f"{getattr(request, 'param', 'moto')}_s3_server")


def new_pair(standin, **dataset: Any) -> tuple[str, str]:
    """A blue and a green dataset (names unique on the stand-in: Dify refuses a second dataset of one name)."""
    tag = uuid.uuid4().hex[:6]
    admin = standin.admin
    return admin.create_dataset(f"kb-blue-{tag}", **dataset)["id"], admin.create_dataset(f"kb-green-{tag}", **dataset)[
        "id"
    ]


@contextmanager
def open_world(
    standin, s3_client, bucket: str, monkeypatch, tmp_path, *, endpoint_url: str, instance=None, **dataset: Any
) -> Iterator[SyncWorld]:
    """A blue/green pair on the stand-in, the bucket, the product's environment, and a Dagster instance (a test
    instance unless one is given). `endpoint_url` is where the product reaches S3 (a fault proxy, say); `dataset`
    fields go to both datasets."""
    env = {
        KEY_VAR: standin.dataset_key,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "S3_ENDPOINT_URL": endpoint_url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    blue, green = new_pair(standin, **dataset)
    with instance or dg.instance_for_test() as owned:
        yield SyncWorld(standin, s3_client, bucket, blue, green, env, str(tmp_path / "artifacts"), instance=owned)


@pytest.fixture
def world(standin, s3_server, s3_client, bucket, monkeypatch, tmp_path):
    with open_world(standin, s3_client, bucket, monkeypatch, tmp_path, endpoint_url=s3_server.endpoint_url) as world:
        yield world
