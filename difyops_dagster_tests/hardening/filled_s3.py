"""A moto S3 server that starts with one bucket already holding N objects, for the load suite.

Why not `put_object` over HTTP: moto's server answers about 200 puts a second on these machines, with 8 or 32
client threads alike (the server is the bottleneck), so 100,000 objects take over eight minutes. Here the same
moto code stores them: the child process calls moto's own S3 backend (`S3Backend.put_object`, what the PUT route
ends in) for every object before it starts serving, about 13,000 a second, then runs the unchanged `moto_server`
entry point. Everything the tests do afterwards (listing, a changed object) goes over HTTP as usual. The server
counts as ready only once it answers, i.e. once the bucket is full.

One change to moto, for time only: moto 5.2 answers every page of `ListObjectsV2` by collecting and sorting the
whole bucket twice, about 2 s a page at 100,000 objects on a busy 2-core machine, so one listing of 100 pages
takes over three minutes. `_remember_listing` keeps the sorted result of a listing's first page and answers its
continuation pages from it (moto's own truncation and token code); a new listing (no continuation token) always
sorts the bucket afresh, so every change made before a listing starts is in it. The pages are moto's, the same
keys, ETags, sizes and tokens.

    python -m difyops_dagster_tests.hardening.filled_s3 --port P --bucket B --count N
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dify_standin.processes import MotoS3Process

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"  # moto's default account: the one any access key maps to


def object_key(i: int) -> str:
    """A thousand objects per folder, two levels deep, with a space in the name (as real buckets have)."""
    return f"docs/{i // 1000:03d}/{i % 1000:03d}/document {i:06d}.md"


def object_body(i: int) -> bytes:
    return f"document {i}\n".encode()


class FilledMotoS3Process(MotoS3Process):
    """`MotoS3Process` whose bucket `bucket` holds `object_key(i)` for i < `count` once it answers."""

    def __init__(self, bucket: str, count: int):
        super().__init__()
        self.bucket = bucket
        self.count = count
        self.argv = [
            sys.executable,
            "-m",
            __name__,
            "--port",
            str(self.port),
            "--bucket",
            bucket,
            "--count",
            str(count),
        ]
        self.env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def fill(bucket: str, count: int) -> None:
    from moto.s3.models import s3_backends

    backend = s3_backends[ACCOUNT]["aws"]
    backend.create_bucket(bucket, "us-east-1")
    for i in range(count):
        backend.put_object(bucket, object_key(i), object_body(i), disable_notification=True)


def _remember_listing() -> None:
    from moto.s3.models import S3Backend

    listings: dict[str, list] = {}  # continuation token -> the rest of that listing, in key order

    def list_objects_v2(self, bucket, prefix, delimiter, continuation_token, start_after, max_keys):
        rest = listings.pop(continuation_token, None) if continuation_token and not start_after else None
        if rest is None:
            keys, folders, _, _ = self.list_objects(bucket, prefix, delimiter, marker=None, max_keys=None)
            rest = sorted(keys + folders, key=self._get_name)
            if continuation_token or start_after:
                limit = self._pagination_tokens.get(continuation_token) if continuation_token else start_after
                rest = self._get_results_from_token(rest, limit)
        page, truncated, token = self._truncate_result(rest, max_keys)
        if truncated:
            listings[token] = rest[len(page) :]
            while len(listings) > 16:  # listings abandoned half-way are forgotten
                listings.pop(next(iter(listings)))
        return page, truncated, token

    S3Backend.list_objects_v2 = list_objects_v2


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m difyops_dagster_tests.hardening.filled_s3", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args()
    fill(args.bucket, args.count)
    _remember_listing()
    from moto.server import main as moto_server

    moto_server(["-H", "127.0.0.1", "-p", str(args.port)])


if __name__ == "__main__":
    main()
