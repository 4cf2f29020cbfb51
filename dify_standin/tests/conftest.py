"""The stand-in's own tests start it as a real process and talk HTTP to it, like the product does."""

from __future__ import annotations

import pytest
import requests

from dify_standin.processes import StandinProcess

APP_KEY = "app-standin-tests"


class Api:
    """A thin requests wrapper with the right key for each surface."""

    def __init__(self, server: StandinProcess):
        self.server = server
        self.base = server.api_url
        self.admin = server.admin

    def ds(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.server.dataset_key}"}
        return requests.request(method, self.base + path, headers=headers, timeout=10, **kwargs)

    def app(self, method: str, path: str, key: str = APP_KEY, **kwargs) -> requests.Response:
        return requests.request(
            method, self.base + path, headers={"Authorization": f"Bearer {key}"}, timeout=10, **kwargs
        )


@pytest.fixture(scope="session")
def standin_process():
    with StandinProcess(dify_version="1.13") as server:
        yield server


@pytest.fixture
def api(standin_process) -> Api:
    standin_process.admin.reset()
    return Api(standin_process)


@pytest.fixture
def dataset(api) -> str:
    return api.admin.create_dataset("kb", indexing_technique="economy", process_rule={"mode": "automatic"})["id"]


def upload(api: Api, dataset_id: str, name: str, body: bytes = b"text", data: str | None = None) -> requests.Response:
    form = {"data": data} if data is not None else {}
    return api.ds("POST", f"/datasets/{dataset_id}/document/create-by-file", files={"file": (name, body)}, data=form)
