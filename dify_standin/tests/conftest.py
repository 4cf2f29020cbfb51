"""The stand-in's own tests start it as a real process and talk HTTP to it, like the product does.

`api` is a 1.13.2 stand-in (the default version) reset for the test; `api_for("1.9.1")` gives one imitating another
version (each version's server starts once per session and is reset per use).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import pytest
import requests

from dify_standin.processes import StandinProcess
from dify_standin.versions import DEFAULT_VERSION, parse_version

APP_KEY = "app-standin-tests"
AUTOMATIC = {"indexing_technique": "economy", "process_rule": {"mode": "automatic"}}


class Api:
    """A thin requests wrapper with the right key for each surface."""

    def __init__(self, server: StandinProcess):
        self.server = server
        self.base = server.api_url
        self.admin = server.admin
        self.version = parse_version(server.dify_version)

    def ds(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.server.dataset_key}", **kwargs.pop("headers", {})}
        return requests.request(method, self.base + path, headers=headers, timeout=10, **kwargs)

    def app(self, method: str, path: str, key: str = APP_KEY, **kwargs) -> requests.Response:
        return requests.request(
            method, self.base + path, headers={"Authorization": f"Bearer {key}"}, timeout=10, **kwargs
        )

    def dataset(self, name: str = "kb", **fields) -> str:
        """A dataset that already has its indexing technique and process rule (so uploads need no options)."""
        return self.admin.create_dataset(name, **{**AUTOMATIC, **fields})["id"]

    def upload(
        self,
        dataset_id: str,
        name: str,
        body: bytes = b"some text",
        data: str | None = None,
        route: str = "create-by-file",
    ) -> requests.Response:
        form = {"data": data} if data is not None else {}
        return self.ds("POST", f"/datasets/{dataset_id}/document/{route}", files={"file": (name, body)}, data=form)

    def documents(self, dataset_id: str, **params) -> dict:
        return self.ds("GET", f"/datasets/{dataset_id}/documents", params=params).json()

    def console_login(
        self, email: str, password: str, *, encode: bool | None = None
    ) -> tuple[requests.Session, requests.Response]:
        """Log in as Dify's web UI does: the password base64-encoded from 1.11.2 (`encode` forces either way)."""
        if encode if encode is not None else self.version >= (1, 11, 2):
            password = base64.b64encode(password.encode()).decode()
        session = requests.Session()
        body = {"email": email, "password": password, "remember_me": True}
        response = session.post(f"{self.server.url}/console/api/login", json=body, timeout=5)
        return session, response


@pytest.fixture(scope="session")
def servers() -> Iterator[dict[str, StandinProcess]]:
    running: dict[str, StandinProcess] = {}
    yield running
    for server in running.values():
        server.stop()


@pytest.fixture
def api_for(servers) -> Callable[[str], Api]:
    def make(version: str) -> Api:
        if version not in servers:
            servers[version] = StandinProcess(dify_version=version).start()
        servers[version].admin.reset()
        return Api(servers[version])

    return make


@pytest.fixture
def api(api_for) -> Api:
    return api_for(DEFAULT_VERSION)


@pytest.fixture
def standin_process(servers) -> StandinProcess:
    """The default-version server itself (for tests that drive it through the admin client only)."""
    if DEFAULT_VERSION not in servers:
        servers[DEFAULT_VERSION] = StandinProcess(dify_version=DEFAULT_VERSION).start()
    return servers[DEFAULT_VERSION]


@pytest.fixture
def dataset(api) -> str:
    return api.dataset()


def upload(api: Api, dataset_id: str, name: str, body: bytes = b"text", data: str | None = None) -> requests.Response:
    return api.upload(dataset_id, name, body, data)
