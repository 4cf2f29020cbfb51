"""Listing a bucket of N objects (BENCH_LIST_N, default 100,000) the way `s3_objects` does it, against a bare boto3
paginator over the same bucket: wall time ratio (goal <= 1.3x) and peak memory (goal < 300 MB).

Each measurement runs in a fresh Python process, twice, alternating, best time kept. Its peak RSS (VmHWM) is
reset after the imports (`/proc/self/clear_refs`), so the figure is the process's peak while listing; the
growth over the memory in use before it is printed too.
The bucket lives in SeaweedFS (BENCH_LIST_SERVER=moto for moto): moto sorts the whole bucket again for every page
of a listing (about 2 s a page at 100,000 keys), which would bury any difference on the client side under
server time.
The sync's variants: the streamed listing classified into source items (`list_source`), and the same plus the
JSON hand-off the step writes for its downstream steps.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks._child import child_json
from dify_standin.processes import MotoS3Process, SeaweedS3Process

TITLE = "Listing 100,000 objects: s3_objects vs a bare boto3 paginator (time, peak memory)"
N = int(os.environ.get("BENCH_LIST_N", 100_000))
BUCKET = "bench-listing"
ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("BENCH_LIST_SERVER", "seaweedfs")

CHILD = r"""
import json, sys, time
import boto3
endpoint, bucket, variant = sys.argv[1:4]
client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
from difyops_dagster.settings import parse_settings
from difyops_dagster.sync.assets import list_source
from difyops_dagster.sync.handoff import dump_handoff
settings = parse_settings({"dify": {"base_url": "http://127.0.0.1:1", "dataset_api_key": {"env": "K"}},
                           "sync": {"bucket": bucket, "mode": "single",
                                    "dataset_id": "00000000-0000-4000-8000-000000000000"}}, {"K": "k"}).sync
def status_mb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
before = status_mb("VmRSS")
with open("/proc/self/clear_refs", "w") as refs:  # the peak (VmHWM) restarts from here: imports do not count
    refs.write("5")
started = time.perf_counter()
if variant == "boto3":
    count = sum(len(p.get("Contents", [])) for p in client.get_paginator("list_objects_v2").paginate(Bucket=bucket))
    extra = 0
else:
    listing, preview = list_source(settings, client)
    count = len(listing.accepted) + len(listing.rejected)
    extra = len(dump_handoff(listing)) if variant == "handoff" else 0
seconds = time.perf_counter() - started
peak = status_mb("VmHWM")
print(json.dumps({"seconds": seconds, "count": count, "peak_mb": peak, "base_mb": before, "bytes": extra}))
"""


def _populate(s3) -> None:
    s3.create_bucket(Bucket=BUCKET)
    keys = [f"docs/{i // 1000:03d}/{i % 1000:03d}/document {i:06d}.md" for i in range(N)]
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=BUCKET, Key=key, Body=b"x"), keys))


def _measure(endpoint: str, variant: str) -> dict:
    return child_json(CHILD, endpoint, BUCKET, variant, timeout=900)


def _memory(result: dict) -> str:
    return f"peak {result['peak_mb']:.0f} MB (+{result['peak_mb'] - result['base_mb']:.0f} MB)"


def run() -> list[dict]:
    with SeaweedS3Process() if SERVER == "seaweedfs" else MotoS3Process() as s3p:
        _populate(s3p.client())
        results: dict[str, list[dict]] = {"boto3": [], "sync": [], "handoff": []}
        for _ in range(2):
            for variant in results:
                results[variant].append(_measure(s3p.endpoint_url, variant))
    best = {variant: min(runs, key=lambda r: r["seconds"]) for variant, runs in results.items()}
    bare = best["boto3"]
    rows = [
        {
            "figure": f"bare boto3 paginator, {bare['count']:,} objects",
            "value": f"{bare['seconds']:.1f} s, {_memory(bare)}",
            "compared_with": f"in use before listing {bare['base_mb']:.0f} MB ({SERVER})",
            "ratio": "1.00x",
        }
    ]
    for variant, label in (("sync", "list_source (classified)"), ("handoff", "list_source + JSON hand-off")):
        r = best[variant]
        rows.append(
            {
                "figure": f"{label}, {r['count']:,} objects",
                "value": f"{r['seconds']:.1f} s, {_memory(r)}"
                + (f", {r['bytes'] / 1e6:.1f} MB JSON" if r["bytes"] else ""),
                "compared_with": "goal <= 1.3x the paginator, < 300 MB",
                "ratio": f"{r['seconds'] / bare['seconds']:.2f}x",
            }
        )
    return rows
