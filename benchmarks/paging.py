"""The client paging through 10,000 documents and 10,000 workflow-log rows on the stand-in.

Figures, side by side in one run: requests made vs the minimum ceil(N/100) (the client stops on `total`; a
loop that stops on the first empty page pays one more, and one that trusts `has_more` at limit > 100 stops
after the first page), and wall time vs plain loops over the same pages (`requests.get` per page, and one
`requests.Session`). Each timing is the median of REPEATS alternating runs, so neither side always runs
second on a warm server. The client runs with its rate limit off (as here) or at the default 20 requests/s,
shown as its own row: that limit, not the client, bounds a real sync's listing time.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterable

import requests

from dify_standin.processes import StandinProcess
from difyops_dagster.dify.client import DifyAppClient, DifyDatasetClient
from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.transport import DifyTransport, RateLimiter, TransportOptions
from difyops_dagster.settings import DifySettings

TITLE = "Paging: 10,000 documents and 10,000 workflow-log rows"
N = 10_000
REPEATS = 3
APP_KEY = "app-bench"
COMPAT = DifyCompat.parse("1.13")
DEFAULT_RATE = DifySettings.model_fields["rate_limit_per_second"].default


def _plain_get_loop(url: str, key: str) -> int:
    """A script without a client: `requests.get` per page, stop on the first empty page."""
    page, rows = 1, 0
    while True:
        response = requests.get(
            url, params={"page": page, "limit": 100}, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        data = response.json()["data"]
        if not data:
            return rows
        rows += len(data)
        page += 1


def _session_loop(url: str, key: str) -> int:
    """The same loop on one `requests.Session` (what the client's transport is built on), parsing nothing."""
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {key}"
        page, rows = 1, 0
        while True:
            data = session.get(url, params={"page": page, "limit": 100}, timeout=30).json()["data"]
            if not data:
                return rows
            rows += len(data)
            page += 1


def _has_more_loop(url: str, key: str, limit: int) -> tuple[int, int]:
    """(rows, requests) of a loop that asks for `limit` rows a page and trusts `has_more`."""
    page, rows = 1, 0
    while True:
        body = requests.get(
            url, params={"page": page, "limit": limit}, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ).json()
        rows += len(body["data"])
        if not body["has_more"]:
            return rows, page
        page += 1


def _measure(server: StandinProcess, suffix: str, read: Callable[[], int]) -> tuple[float, int, int]:
    """(seconds, rows, requests) of one read, the requests counted in the stand-in's log."""
    server.admin.clear_request_log()
    started = time.perf_counter()
    rows = read()
    seconds = time.perf_counter() - started
    requests_made = sum(1 for r in server.admin.request_log() if r["path"].endswith(suffix))
    return seconds, rows, requests_made


def _rows_for(label: str, sides: dict[str, list[tuple[float, int, int]]]) -> Iterable[dict]:
    minimum = math.ceil(N / 100)
    median = {name: statistics.median(s for s, _, _ in runs) for name, runs in sides.items()}
    for name, runs in sides.items():
        assert all(rows == N for _, rows, _ in runs), (label, name, [rows for _, rows, _ in runs])
        made = runs[0][2]
        yield {
            "figure": f"{label}: requests, {name}",
            "value": made,
            "compared_with": f"minimum ceil(N/100) = {minimum}",
            "ratio": f"{made / minimum:.2f}x",
        }
    for name in sides:
        if name == "plain requests.get loop":
            continue
        yield {
            "figure": f"{label}: wall time, {name}",
            "value": f"{median[name]:.2f} s",
            "compared_with": f"plain requests.get loop {median['plain requests.get loop']:.2f} s",
            "ratio": f"{median[name] / median['plain requests.get loop']:.2f}x",
        }


def _client(server: StandinProcess, key: str, rate: float) -> DifyTransport:
    return DifyTransport(server.api_url, key, TransportOptions(rate_limit_per_second=rate), RateLimiter(rate))


def run() -> list[dict]:
    rows: list[dict] = []
    with StandinProcess() as server:
        dataset = server.admin.create_dataset("bench")["id"]
        server.admin.add_documents_bulk(dataset, N)
        app = server.admin.create_app("bench", APP_KEY)
        server.admin.seed_logs(
            app["id"], generate={"count": N, "start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"}
        )
        documents_url, logs_url = f"{server.api_url}/datasets/{dataset}/documents", f"{server.api_url}/workflows/logs"
        documents = DifyDatasetClient(_client(server, server.dataset_key, 0), COMPAT)
        limited = DifyDatasetClient(_client(server, server.dataset_key, DEFAULT_RATE), COMPAT)
        logs = DifyAppClient(_client(server, APP_KEY, 0), COMPAT)
        once = {  # slow by design: measured once, after the repeated sides
            "documents": {
                f"client at the default {DEFAULT_RATE:g} requests/s": lambda: sum(
                    1 for _ in limited.iter_documents(dataset)
                )
            },
            "log rows": {},
        }
        cases = {
            "documents": (
                "/documents",
                {
                    "client": lambda: sum(1 for _ in documents.iter_documents(dataset)),
                    "plain requests.get loop": lambda: _plain_get_loop(documents_url, server.dataset_key),
                    "requests.Session loop": lambda: _session_loop(documents_url, server.dataset_key),
                },
            ),
            "log rows": (
                "/workflows/logs",
                {
                    "client": lambda: sum(1 for _ in logs.iter_workflow_logs()),
                    "plain requests.get loop": lambda: _plain_get_loop(logs_url, APP_KEY),
                    "requests.Session loop": lambda: _session_loop(logs_url, APP_KEY),
                },
            ),
        }
        for label, (suffix, reads) in cases.items():
            sides: dict[str, list] = {name: [] for name in reads}
            for repeat in range(REPEATS):
                order = list(reads) if repeat % 2 == 0 else list(reversed(reads))
                for name in order:
                    sides[name].append(_measure(server, suffix, reads[name]))
            sides.update({name: [_measure(server, suffix, read)] for name, read in once[label].items()})
            rows += _rows_for(label, sides)
        seen, made = _has_more_loop(documents_url, server.dataset_key, limit=1000)
        rows.append(
            {
                "figure": "documents: rows seen by a loop trusting has_more at limit=1000",
                "value": f"{seen} in {made} request(s)",
                "compared_with": f"{N} documents",
                "ratio": f"{seen / N:.2f}x",
            }
        )
    return rows
