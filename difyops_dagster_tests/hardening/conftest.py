"""Module-scoped fixtures the crash and long-lived suites share: an environment patched for the whole module, the
fork server that runs the runs to kill, and the long-lived sync world with its webhook receiver."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from difyops_dagster_tests.hardening.crashes import RunServer
from difyops_dagster_tests.hardening.long_lived import LongLivedSync
from difyops_dagster_tests.receivers import WebhookReceiver
from difyops_dagster_tests.sync.conftest import open_world


@pytest.fixture(scope="module")
def environ() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def run_server(tmp_path_factory) -> Iterator[RunServer]:
    server = RunServer(tmp_path_factory.mktemp("crash-runs") / "server.log")
    yield server
    server.close()


@pytest.fixture(scope="module")
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def life(standin_server, s3_server, environ, tmp_path_factory, hook) -> Iterator[LongLivedSync]:
    """A sync world of its own on the worker's stand-in (reset for this module) and a long-lived DAGSTER_HOME."""
    standin_server.admin.reset()
    standin_server.admin.set_indexing(seconds=0.1)
    home = tmp_path_factory.mktemp("long-lived")
    s3 = s3_server.client()
    bucket = f"life-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    with open_world(standin_server, s3, bucket, environ, home, endpoint_url=s3_server.endpoint_url) as world:
        yield LongLivedSync(world, home, hook.url)


@pytest.fixture
def quiet(life) -> Iterator[None]:
    """No faults and no latency left over from another cell, and an empty request log."""
    admin = life.world.standin.admin
    admin.clear_faults()
    admin.clear_request_log()
    yield
    admin.clear_faults()
    admin.set_latency(0)
