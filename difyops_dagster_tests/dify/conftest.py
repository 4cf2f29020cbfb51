"""Clients wired to the running stand-in, with fast backoff so retry tests take milliseconds, not seconds."""

from __future__ import annotations

import pytest

from difyops_dagster.dify.client import DifyAppClient, DifyDatasetClient
from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.transport import DifyTransport, RateLimiter, TransportOptions

FAST = TransportOptions(
    connect_timeout_s=2,
    read_timeout_s=5,
    max_retries=3,
    backoff_factor_s=0.01,
    backoff_max_s=0.1,
    rate_limit_per_second=0,
)
APP_KEY = "app-client-tests-key"


def dataset_client(standin, options: TransportOptions = FAST, version: str = "1.13") -> DifyDatasetClient:
    transport = DifyTransport(standin.api_url, standin.dataset_key, options, RateLimiter(options.rate_limit_per_second))
    return DifyDatasetClient(transport, DifyCompat.parse(version))


def app_client(standin, key: str = APP_KEY, options: TransportOptions = FAST, version: str = "1.13") -> DifyAppClient:
    transport = DifyTransport(standin.api_url, key, options, RateLimiter(options.rate_limit_per_second))
    return DifyAppClient(transport, DifyCompat.parse(version))


@pytest.fixture
def datasets(standin) -> DifyDatasetClient:
    return dataset_client(standin)


@pytest.fixture
def dataset_id(standin) -> str:
    return standin.admin.create_dataset("kb", indexing_technique="economy", process_rule={"mode": "automatic"})["id"]


@pytest.fixture
def app(standin) -> dict:
    return standin.admin.create_app(
        "echo",
        APP_KEY,
        workflow={"outputs": {"answer": "Hello {{query}}"}, "tokens": 42},
    )


@pytest.fixture
def apps(standin, app) -> DifyAppClient:
    return app_client(standin)
