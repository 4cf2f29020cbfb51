"""A sync world: the stand-in with blue and green datasets, a moto bucket, settings and Definitions over them."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg
import pytest

from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import Settings, parse_settings
from difyops_dagster.sync.colour import load_state

KEY_VAR = "DIFYOPS_TEST_DATASET_KEY"


@dataclass
class SyncWorld:
    standin: object
    s3: object
    bucket: str
    blue: str
    green: str
    env: dict
    overrides: dict = field(default_factory=dict)
    instance: dg.DagsterInstance | None = None

    def settings(self, **sync: object) -> Settings:
        data = {
            "dify": {
                "base_url": self.standin.api_url,
                "dataset_api_key": {"env": KEY_VAR},
                "max_retries": 2,
                "backoff_factor_s": 0.01,
                "rate_limit_per_second": 0,
            },
            "s3": {
                "endpoint_url": self.env["S3_ENDPOINT_URL"],
                "access_key_id": {"env": "AWS_ACCESS_KEY_ID"},
                "secret_access_key": {"env": "AWS_SECRET_ACCESS_KEY"},
            },
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
        return parse_settings(data, self.env)

    def put(self, key: str, body: bytes | str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)

    def run(self, **sync: object) -> dg.ExecuteInProcessResult:
        defs = build_definitions(self.settings(**sync))
        return defs.resolve_job_def("sync_job").execute_in_process(instance=self.instance, raise_on_error=False)

    def rollback(self) -> dg.ExecuteInProcessResult:
        defs = build_definitions(self.settings())
        return defs.resolve_job_def("rollback_colour_job").execute_in_process(
            instance=self.instance, raise_on_error=False
        )

    def active(self) -> str | None:
        return load_state(self.s3, self.bucket, "_difyops/active-colour.json").active

    def documents(self, dataset_id: str) -> list[dict]:
        return self.standin.admin.documents(dataset_id)

    def keys_in(self, dataset_id: str) -> list[str]:
        return sorted(d["metadata"].get("source_key", "?") for d in self.documents(dataset_id))


@pytest.fixture
def world(standin, s3_server, s3_client, bucket, monkeypatch):
    env = {
        KEY_VAR: standin.dataset_key,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "S3_ENDPOINT_URL": s3_server.endpoint_url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    blue = standin.admin.create_dataset("kb-blue")["id"]
    green = standin.admin.create_dataset("kb-green")["id"]
    with dg.instance_for_test() as instance:
        yield SyncWorld(standin, s3_client, bucket, blue, green, env, instance=instance)
