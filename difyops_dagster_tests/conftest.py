"""Fixtures that start the real local parts on free ports of 127.0.0.1 and stop them.

One stand-in and one S3 server per test process (xdist worker); each test gets a clean stand-in state and a
bucket of its own, so tests never see each other's data.

`s3_server` is moto. The sync and storage folders override it with one parametrized over every server in
`S3_SERVERS` (ids `moto`, `seaweedfs`, each a session fixture `<id>_s3_server`), so those suites show the product
relies on S3 itself and not on one server's quirks. A test parametrized onto SeaweedFS is a cell of the `second_s3`
scoreboard. The SeaweedFS server starts only in a worker that runs such a test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from dify_standin.processes import MotoS3Process, SeaweedS3Process, StandinProcess

S3_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def standin_server() -> Iterator[StandinProcess]:
    with StandinProcess() as server:
        yield server


@pytest.fixture
def standin(standin_server: StandinProcess) -> StandinProcess:
    """The running stand-in, reset to an empty Dify with no faults and no latency."""
    standin_server.admin.reset()
    return standin_server


@pytest.fixture(scope="session")
def moto_s3_server() -> Iterator[MotoS3Process]:
    with MotoS3Process() as server:
        yield server


@pytest.fixture(scope="session")
def seaweedfs_s3_server() -> Iterator[SeaweedS3Process]:
    with SeaweedS3Process() as server:
        yield server


@pytest.fixture(scope="session")
def s3_server(moto_s3_server: MotoS3Process) -> MotoS3Process:
    return moto_s3_server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test parametrized onto SeaweedFS (`s3_server`, or a fixture of its own such as the artifact `store`) is one
    cell of the `second_s3` scoreboard."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "seaweedfs" in [v for v in callspec.params.values() if isinstance(v, str)]:
            item.add_marker(pytest.mark.scoreboard("second_s3"))


@pytest.fixture
def s3_client(s3_server: MotoS3Process):
    return s3_server.client()


@pytest.fixture
def bucket(s3_client) -> str:
    """A fresh, empty bucket for this test."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in S3_ENV.items():
        monkeypatch.setenv(key, value)
    return S3_ENV


@pytest.fixture(autouse=True)
def _no_stale_dagster_instance():
    """Dagster 1.13 keeps the entered instance's defs-state storage in a ContextVar; a test that leaves an instance
    open (or closes it from another context) makes the next Definitions load resolve a dead weakref. Start each
    test without one, as a fresh process would."""
    from dagster._core.storage.defs_state.base import _current_storage

    _current_storage.set(None)
    yield
