"""Reading a large dataset's documents with pages after the first requested concurrently, at 50 ms per call.

Figures, side by side in one run, at 10,000, 30,000 and 100,000 documents (BENCH_PAGING_SIZES): the client at
`dify.read_concurrency` 8 (the default) against the same client reading page after page (concurrency 1), both with
the rate limit off, every list call held 50 ms by the stand-in (a Dify answering from across a network); requests
made against the minimum ceil(N/100); time per 1,000 documents (the cost growth) and the time a million would
take at that rate. A last row reads the largest dataset at the default rate limit (20 requests/s), which then
bounds the read at N/100/20 seconds whatever the concurrency: the figure to raise `dify.rate_limit_per_second`
by when a self-hosted Dify can take it.
"""

from __future__ import annotations

import math
import os
import time

from dify_standin.processes import StandinProcess
from difyops_dagster.dify.client import DifyDatasetClient
from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.transport import DifyTransport, RateLimiter, TransportOptions
from difyops_dagster.settings import DifySettings

TITLE = "Paging in parallel: documents at 50 ms per call"
SIZES = [int(n) for n in os.environ.get("BENCH_PAGING_SIZES", "10000,30000,100000").split(",")]
LATENCY_MS = 50
DEFAULT_RATE = DifySettings.model_fields["rate_limit_per_second"].default
DEFAULT_CONCURRENCY = DifySettings.model_fields["read_concurrency"].default


def _client(server: StandinProcess, concurrency: int, rate: float) -> DifyDatasetClient:
    options = TransportOptions(max_retries=0, rate_limit_per_second=rate)
    transport = DifyTransport(server.api_url, server.dataset_key, options, RateLimiter(rate))
    return DifyDatasetClient(transport, DifyCompat.parse("1.13.2"), concurrency)


def _read(server: StandinProcess, dataset_id: str, concurrency: int, rate: float = 0) -> tuple[float, int, int]:
    """(seconds, documents, list requests) of one full read."""
    client = _client(server, concurrency, rate)
    server.admin.clear_request_log()
    started = time.perf_counter()
    documents = sum(1 for _ in client.iter_documents(dataset_id))
    seconds = time.perf_counter() - started
    made = sum(1 for r in server.admin.request_log() if r["path"].endswith("/documents"))
    client.transport.close()
    return seconds, documents, made


def run() -> list[dict]:
    rows: list[dict] = []
    with StandinProcess(dify_version="1.13.2") as server:
        dataset_id = server.admin.create_dataset("paging")["id"]
        seeded = 0
        for size in SIZES:
            server.admin.add_documents_bulk(dataset_id, size - seeded, prefix=f"n{size}-")
            seeded = size
            server.admin.set_faults([{"path": "/documents$", "method": "GET", "latency_ms": LATENCY_MS}])
            sequential, _, sequential_requests = _read(server, dataset_id, 1)
            parallel, documents, parallel_requests = _read(server, dataset_id, DEFAULT_CONCURRENCY)
            server.admin.clear_faults()
            minimum = math.ceil(size / 100)
            rows += [
                {
                    "figure": f"{size:,} documents: read time, concurrency {DEFAULT_CONCURRENCY} vs 1",
                    "value": f"{parallel:.2f} s ({documents:,} documents)",
                    "compared_with": f"{sequential:.2f} s page after page",
                    "ratio": f"{parallel / sequential:.3f}x (goal <= 0.25x)",
                },
                {
                    "figure": f"{size:,} documents: list requests",
                    "value": f"{parallel_requests:,}",
                    "compared_with": f"ceil(N/100) = {minimum:,} (sequential made {sequential_requests:,})",
                    "ratio": f"{parallel_requests / minimum:.3f}x",
                },
                {
                    "figure": f"{size:,} documents: time per 1,000 documents",
                    "value": f"{parallel / size * 1000 * 1000:.1f} ms",
                    "compared_with": f"a million: {parallel / size * 1_000_000:.0f} s",
                    "ratio": "",
                },
            ]
        largest = SIZES[-1]
        server.admin.set_faults([{"path": "/documents$", "method": "GET", "latency_ms": LATENCY_MS}])
        limited, _, _ = _read(server, dataset_id, DEFAULT_CONCURRENCY, DEFAULT_RATE)
        bound = (math.ceil(largest / 100) - DEFAULT_RATE) / DEFAULT_RATE  # after the bucket's first burst
        rows.append(
            {
                "figure": f"{largest:,} documents at the default rate limit ({DEFAULT_RATE:g}/s)",
                "value": f"{limited:.2f} s",
                "compared_with": f"bound (ceil(N/100) - burst) / rate = {bound:.1f} s",
                "ratio": f"{bound / limited:.2f} of the bound",
            }
        )
    return rows
