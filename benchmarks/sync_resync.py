"""The sync on a bucket of N objects (BENCH_N, default 10,000) with 50 ms latency per Dify call, side by side
with a faithful re-implementation of seed 000's algorithm (push all files, one unpaged document list).
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import requests

from dify_standin.processes import MotoS3Process, StandinProcess
from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import parse_settings
from difyops_dagster.sync.assets import list_source

TITLE = "Sync: no-op re-sync, 1% changed, 500 uploads, vs the seed's algorithm (50 ms per Dify call)"
N = int(os.environ.get("BENCH_N", 10_000))
LATENCY_MS = 50
CONCURRENCY = 8
BUCKET = "bench"


def _key(i: int) -> str:
    # one object in a hundred shares its base name with others under a different prefix, as real buckets do
    return f"docs/team-{i % 10}/README.md" if i % 100 == 0 else f"docs/{i // 1000:02d}/{i:05d}.md"


def _body(i: int, version: int = 0) -> bytes:
    return f"document {i} version {version}\n".encode()


def _put_all(s3, items) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda kv: s3.put_object(Bucket=BUCKET, Key=kv[0], Body=kv[1]), items))


def _requests(server) -> dict[str, int]:
    log = server.admin.request_log()
    return {
        "list": sum(1 for r in log if r["method"] == "GET" and r["path"].endswith("/documents")),
        "writes": sum(1 for r in log if r["method"] in ("POST", "PATCH", "DELETE") and "metadata" not in r["path"]),
        "metadata": sum(1 for r in log if r["method"] == "POST" and r["path"].endswith("/documents/metadata")),
        "total": len(log),
    }


def _seed_algorithm(server, dataset_id: str, s3) -> float:
    """Seed 000: list S3; read the dataset's documents once (no paging: 20); upload every file by base name,
    `update` when the name is in that list, `create` otherwise; delete listed names that S3 lacks. Sequential."""
    headers = {"Authorization": f"Bearer {server.dataset_key}"}
    base = f"{server.api_url}/datasets/{dataset_id}"
    started = time.perf_counter()
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        for o in page.get("Contents", [])
    ]
    listed = {d["name"]: d["id"] for d in requests.get(f"{base}/documents", headers=headers, timeout=60).json()["data"]}
    names = {k.rsplit("/", 1)[-1] for k in keys}
    for key in keys:
        name = key.rsplit("/", 1)[-1]
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        if name in listed:
            requests.post(
                f"{base}/documents/{listed[name]}/update-by-file",
                headers=headers,
                files={"file": (name, body)},
                timeout=60,
            )
        else:
            requests.post(
                f"{base}/document/create-by-file",
                headers=headers,
                files={"file": (name, body)},
                data={"data": '{"indexing_technique":"high_quality","process_rule":{"mode":"automatic"}}'},
                timeout=60,
            )
    for name, doc_id in listed.items():
        if name not in names:
            requests.delete(f"{base}/documents/{doc_id}", headers=headers, timeout=60)
    return time.perf_counter() - started


def run() -> list[dict]:
    rows: list[dict] = []
    with MotoS3Process() as s3p, StandinProcess(indexing_seconds=0.0) as server:
        s3 = s3p.client()
        s3.create_bucket(Bucket=BUCKET)
        _put_all(s3, [(_key(i), _body(i)) for i in range(N)])
        blue = server.admin.create_dataset(
            "blue", indexing_technique="high_quality", process_rule={"mode": "automatic"}
        )["id"]
        green = server.admin.create_dataset(
            "green", indexing_technique="high_quality", process_rule={"mode": "automatic"}
        )["id"]
        seed_ds = server.admin.create_dataset(
            "seed", indexing_technique="high_quality", process_rule={"mode": "automatic"}
        )["id"]
        env = {"K": server.dataset_key, "A": "x", "B": "x"}
        settings = parse_settings(
            {
                "dify": {"base_url": server.api_url, "dataset_api_key": {"env": "K"}, "rate_limit_per_second": 0},
                "s3": {
                    "endpoint_url": s3p.endpoint_url,
                    "access_key_id": {"env": "A"},
                    "secret_access_key": {"env": "B"},
                },
                "sync": {
                    "bucket": BUCKET,
                    "blue_dataset_id": blue,
                    "green_dataset_id": green,
                    "upload_concurrency": CONCURRENCY,
                    "indexing_poll_s": 0.2,
                },
            },
            env,
        )
        listing = list_source(settings.sync, s3)
        for dataset in (blue, green):  # both colours already mirror the bucket, as after two earlier runs
            docs = [
                {"name": s.document_name, "metadata": {"source_key": s.source_key, "fingerprint": s.fingerprint}}
                for s in listing.accepted
            ]
            server.admin.add_documents_bulk(dataset, documents=docs)
        os.environ.update({"K": server.dataset_key, "A": "x", "B": "x"})
        defs = build_definitions(settings)
        job = defs.resolve_job_def("sync_job")
        server.admin.set_latency(LATENCY_MS)
        pages = math.ceil(N / 100)

        with dg.instance_for_test() as instance:

            def sync(label: str) -> tuple[dict, float]:
                server.admin.clear_request_log()
                started = time.perf_counter()
                result = job.execute_in_process(instance=instance, raise_on_error=False)
                elapsed = time.perf_counter() - started
                assert result.success, f"{label} failed"
                return _requests(server), elapsed

            noop, noop_s = sync("no-op")
            rows.append(
                {
                    "figure": "no-op re-sync: document-list requests",
                    "value": noop["list"],
                    "compared_with": f"ceil(N/100) per colour x 2 colours read = {2 * pages}",
                    "ratio": f"{noop['list'] / (2 * pages):.2f}x",
                }
            )
            rows.append(
                {"figure": "no-op re-sync: writes", "value": noop["writes"], "compared_with": "0 changes", "ratio": "-"}
            )
            rows.append(
                {
                    "figure": "no-op re-sync: wall time",
                    "value": f"{noop_s:.1f} s",
                    "compared_with": f"{noop['total']} requests in all",
                    "ratio": "-",
                }
            )

            changed = list(range(1, N, 100))[: N // 100]
            _put_all(s3, [(_key(i), _body(i, 1)) for i in changed])
            one, one_s = sync("1% changed")
            rows.append(
                {
                    "figure": f"1% changed ({len(changed)} objects): document writes",
                    "value": one["writes"],
                    "compared_with": f"{len(changed)} changes",
                    "ratio": f"{one['writes'] / len(changed):.2f}x",
                }
            )
            rows.append(
                {
                    "figure": "1% changed: wall time",
                    "value": f"{one_s:.1f} s",
                    "compared_with": f"{one['total']} requests",
                    "ratio": "-",
                }
            )
            sync("catch-up of the other colour")

            batch = list(range(2, N, max(1, N // 500)))[:500]
            _put_all(s3, [(_key(i), _body(i, 2)) for i in batch])
            server.admin.clear_request_log()
            assert job.execute_in_process(instance=instance, raise_on_error=False).success
            uploads = [
                r for r in server.admin.request_log() if r["method"] in ("POST", "PATCH") and "/documents/" in r["path"]
            ]
            window = max(r["time"] for r in uploads) - min(r["time"] for r in uploads) + LATENCY_MS / 1000
            files = sum(1 for r in uploads if not r["path"].endswith("/metadata"))
            bound = CONCURRENCY / (2 * LATENCY_MS / 1000)  # files/s: each upload and its metadata write is one call
            rows.append(
                {
                    "figure": f"{files} changed uploads: throughput",
                    "value": f"{files / window:.1f} files/s",
                    "compared_with": f"bound {bound:.0f} files/s ({CONCURRENCY} threads x 2 calls of {LATENCY_MS} ms)",
                    "ratio": f"{files / window / bound:.0%} of bound",
                }
            )

        server.admin.clear_request_log()
        seed_s = _seed_algorithm(server, seed_ds, s3)
        seed = _requests(server)
        documents = server.admin.documents(seed_ds)
        names = [d["name"] for d in documents]
        lost = N - len(set(names))
        rows.append(
            {
                "figure": "seed algorithm, one run: document writes",
                "value": seed["writes"],
                "compared_with": "difyops no-op re-sync: 0",
                "ratio": "-",
            }
        )
        rows.append(
            {
                "figure": "seed algorithm: wall time",
                "value": f"{seed_s:.1f} s",
                "compared_with": f"difyops no-op {noop_s:.1f} s",
                "ratio": f"{seed_s / noop_s:.1f}x slower",
            }
        )
        rows.append(
            {
                "figure": "seed algorithm: files lost to base-name collisions",
                "value": lost,
                "compared_with": "difyops: 0",
                "ratio": "-",
            }
        )
        rows.append(
            {
                "figure": "seed algorithm: duplicate documents",
                "value": len(names) - len(set(names)),
                "compared_with": "difyops: 0 (checked by no_duplicate_documents)",
                "ratio": "-",
            }
        )
    return rows
