"""The client's paging against the stand-in: requests vs the minimum, time vs a plain `requests.get` loop."""

from __future__ import annotations

import math
import time

import requests

from dify_standin.processes import StandinProcess
from difyops_dagster.dify.client import DifyAppClient, DifyDatasetClient
from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.transport import DifyTransport, RateLimiter, TransportOptions

TITLE = "Paging: 10,000 documents and 10,000 workflow-log rows"
N = 10_000
APP_KEY = "app-bench"
OPTIONS = TransportOptions(rate_limit_per_second=0)


def _count(server: StandinProcess, suffix: str) -> int:
    return sum(1 for r in server.admin.request_log() if r["path"].endswith(suffix))


def _plain_loop(url: str, key: str) -> int:
    """What a script without a client does: requests.get per page (new connection each), stop on an empty page."""
    page, rows = 1, 0
    while True:
        data = requests.get(
            url, params={"page": page, "limit": 100}, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ).json()["data"]
        if not data:
            return rows
        rows += len(data)
        page += 1


def run() -> list[dict]:
    rows = []
    with StandinProcess() as server:
        dataset = server.admin.create_dataset("bench")["id"]
        server.admin.add_documents_bulk(dataset, N)
        app = server.admin.create_app("bench", APP_KEY)
        server.admin.seed_logs(
            app["id"], generate={"count": N, "start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"}
        )
        transport = DifyTransport(server.api_url, server.dataset_key, OPTIONS, RateLimiter(0))
        cases = [
            (
                "documents",
                DifyDatasetClient(transport, DifyCompat.parse("1.13")).iter_documents,
                (dataset,),
                f"/datasets/{dataset}/documents",
                server.dataset_key,
                "/documents",
            ),
            (
                "log rows",
                DifyAppClient(
                    DifyTransport(server.api_url, APP_KEY, OPTIONS, RateLimiter(0)), DifyCompat.parse("1.13")
                ).iter_workflow_logs,
                (),
                "/workflows/logs",
                APP_KEY,
                "/workflows/logs",
            ),
        ]
        for label, iterate, args, path, key, suffix in cases:
            server.admin.clear_request_log()
            started = time.perf_counter()
            count = sum(1 for _ in iterate(*args))
            client_s = time.perf_counter() - started
            client_requests = _count(server, suffix)
            server.admin.clear_request_log()
            started = time.perf_counter()
            plain_count = _plain_loop(server.api_url + path, key)
            plain_s = time.perf_counter() - started
            plain_requests = _count(server, suffix)
            minimum = math.ceil(N / 100)
            assert count == plain_count == N, (label, count, plain_count)
            rows += [
                {
                    "figure": f"{label}: requests (client)",
                    "value": client_requests,
                    "compared_with": f"minimum ceil(N/100) = {minimum}",
                    "ratio": f"{client_requests / minimum:.2f}x",
                },
                {
                    "figure": f"{label}: requests (plain loop)",
                    "value": plain_requests,
                    "compared_with": f"minimum {minimum}",
                    "ratio": f"{plain_requests / minimum:.2f}x",
                },
                {
                    "figure": f"{label}: wall time (client)",
                    "value": f"{client_s:.2f} s",
                    "compared_with": f"plain requests.get loop {plain_s:.2f} s",
                    "ratio": f"{client_s / plain_s:.2f}x",
                },
            ]
    return rows
