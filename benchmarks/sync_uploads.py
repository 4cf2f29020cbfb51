"""The sync's upload path against its bound: 500 changed files, 8 and 32 Dify calls in flight, 50 ms per call.

Figures, side by side in one run: files per second while uploading (their metadata calls included, as they take
the same slots) against the bound `concurrency x 1 / latency`, with S3 bodies read ahead of the upload threads
(prefetch.py, the product's path) and with each body read in its upload thread (what the sync did before), on the
same bucket (a moto server) and the same stand-in, each a fresh dataset, alternating. `apply_sync_plan` is run
directly: Dagster's step overhead is not part of the upload path.
"""

from __future__ import annotations

import contextlib
import os
import time
from concurrent.futures import ThreadPoolExecutor

import psutil

from dify_standin.processes import MotoS3Process, StandinProcess
from difyops_dagster.dify.client import DifyDatasetClient
from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.transport import DifyTransport, RateLimiter, TransportOptions
from difyops_dagster.sync.apply import ApplyOptions, apply_sync_plan
from difyops_dagster.sync.assets import PREFETCH_WORKERS
from difyops_dagster.sync.models import SourceItem, SyncPlan

TITLE = "Sync uploads: 500 changed files at 8 and 32 in flight, 50 ms per Dify call, vs the bound"
FILES = int(os.environ.get("BENCH_UPLOADS", 500))
LATENCY_MS = 50
BUCKET = "uploads"
FIRST = {"indexing_technique": "economy", "process_rule": {"mode": "automatic"}}


def _sources(s3) -> list[SourceItem]:
    items = []
    with ThreadPoolExecutor(16) as pool:
        bodies = {f"docs/{i:04d}.md": f"document {i}\n".encode() * 40 for i in range(FILES)}
        list(pool.map(lambda kv: s3.put_object(Bucket=BUCKET, Key=kv[0], Body=kv[1]), bodies.items()))
    for key, body in bodies.items():
        items.append(SourceItem(key, f"fp-{key}", key.replace("/", " "), len(body)))
    return items


def _cpu_seconds() -> dict[str, float]:
    """CPU seconds (user + system) so far of this process and of each server it started, by role."""
    me = psutil.Process()
    roles = {"client": sum(me.cpu_times()[:2]), "moto": 0.0, "stand-in": 0.0}
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            role = "moto" if "moto" in " ".join(child.cmdline()) else "stand-in"
            roles[role] += sum(child.cpu_times()[:2])
    return roles


def _upload(
    server, s3, sources: list[SourceItem], concurrency: int, prefetch: bool, latency_ms: float = LATENCY_MS
) -> tuple[float, dict]:
    """Files per second over the upload window (first upload's arrival to the last one's answer), and the CPU
    milliseconds per file each process spent."""
    dataset = server.admin.create_dataset(f"c{concurrency}-{'pre' if prefetch else 'direct'}-{time.time_ns()}")["id"]
    transport = DifyTransport(server.api_url, server.dataset_key, TransportOptions(max_retries=0), RateLimiter(0))
    client = DifyDatasetClient(transport, DifyCompat.parse("1.13.2"))
    options = ApplyOptions(
        concurrency=concurrency,
        indexing_timeout_s=120,
        indexing_poll_s=0.2,
        first_upload_options=FIRST,
        prefetch_workers=min(concurrency, PREFETCH_WORKERS) if prefetch else 0,
    )

    def load(source: SourceItem) -> bytes:
        return s3.get_object(Bucket=BUCKET, Key=source.source_key)["Body"].read()

    server.admin.clear_request_log()
    before = _cpu_seconds()
    report = apply_sync_plan(client, dataset, SyncPlan(create=tuple(sources)), load, options)
    after = _cpu_seconds()
    assert not report.failures, report.failures[:3]
    uploads = [r for r in server.admin.request_log() if r["method"] == "POST" and "/document" in r["path"]]
    window = max(r["time"] for r in uploads) - min(r["time"] for r in uploads) + latency_ms / 1000
    transport.close()
    return FILES / window, {role: (after[role] - before[role]) * 1000 / FILES for role in after}


def _cpu_note(cpu: dict) -> str:
    return ", ".join(f"{role} {ms:.1f}" for role, ms in cpu.items()) + " ms CPU per file"


def run() -> list[dict]:
    rows: list[dict] = []
    with MotoS3Process() as s3p, StandinProcess(dify_version="1.13.2") as server:
        s3 = s3p.client()
        s3.create_bucket(Bucket=BUCKET)
        sources = _sources(s3)
        # The machine's own ceiling: the same path with no injected latency, so only CPU limits it (the client,
        # moto and the stand-in share the cores). A bound above it cannot be reached on this machine.
        server.admin.set_latency(0)
        ceiling, cpu = _upload(server, s3, sources, 32, prefetch=True, latency_ms=0)
        rows.append(
            {
                "figure": f"{FILES} uploads, 32 in flight, no injected latency (this machine's CPU ceiling)",
                "value": f"{ceiling:.1f} files/s",
                "compared_with": f"{os.cpu_count()} cores; {_cpu_note(cpu)}",
                "ratio": f"{sum(cpu.values()):.1f} ms CPU per file in all",
            }
        )
        server.admin.set_latency(LATENCY_MS)
        for concurrency in (8, 32):
            bound = concurrency / (LATENCY_MS / 1000)
            reachable = min(bound, ceiling)
            direct, _ = _upload(server, s3, sources, concurrency, prefetch=False)
            ahead, cpu = _upload(server, s3, sources, concurrency, prefetch=True)
            rows += [
                {
                    "figure": f"{FILES} uploads, {concurrency} in flight, bodies read ahead (prefetch)",
                    "value": f"{ahead:.1f} files/s",
                    "compared_with": f"bound {bound:.0f} files/s ({concurrency} x 1/{LATENCY_MS} ms); "
                    f"reachable here {reachable:.0f}",
                    "ratio": f"{ahead / bound:.0%} of bound (goal >= 80%), {ahead / reachable:.0%} of reachable",
                },
                {
                    "figure": f"{FILES} uploads, {concurrency} in flight, each body read in its upload thread",
                    "value": f"{direct:.1f} files/s",
                    "compared_with": f"prefetch {ahead:.1f} files/s",
                    "ratio": f"{direct / bound:.0%} of bound; prefetch {ahead / direct:.2f}x",
                },
            ]
    return rows
