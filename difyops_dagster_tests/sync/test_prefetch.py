"""Bodies are read ahead of the uploads in their order, never holding more than the byte cap, and hand each
upload its own body (or its own error) whatever order the uploads ask in."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from difyops_dagster.sync.models import SourceItem
from difyops_dagster.sync.prefetch import BodyPrefetcher


def item(n: int, size: int = 10) -> SourceItem:
    return SourceItem(f"docs/{n}.md", f"fp{n}", f"{n}.md", size)


class Bucket:
    """A loader that records how many bytes are out at once (read but not yet handed to an upload)."""

    def __init__(self, delay_s: float = 0.0, broken: frozenset[str] = frozenset()):
        self.delay_s = delay_s
        self.broken = broken
        self.reads: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, source: SourceItem) -> bytes:
        time.sleep(self.delay_s)
        with self.lock:
            self.reads.append(source.source_key)
        if source.source_key in self.broken:
            raise OSError(f"NoSuchKey: {source.source_key}")
        return source.source_key.encode() * 2


def test_every_upload_gets_its_own_body_whatever_order_it_asks_in():
    items = [item(n) for n in range(20)]
    with BodyPrefetcher(Bucket(0.001), items, workers=4, max_bytes=1_000) as bodies:
        asked = list(reversed(items))
        assert [bodies(i) for i in asked] == [i.source_key.encode() * 2 for i in asked]


def test_bodies_are_read_in_plan_order_ahead_of_the_uploads():
    items = [item(n) for n in range(10)]
    bucket = Bucket()
    with BodyPrefetcher(bucket, items, workers=1, max_bytes=1_000) as bodies:
        bodies(items[0])
        deadline = time.monotonic() + 5
        while len(bucket.reads) < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert bucket.reads == [i.source_key for i in items]  # read ahead before anyone asked for them


def test_no_more_than_the_byte_cap_is_held_at_once():
    items = [item(n, size=100) for n in range(30)]
    bucket = Bucket()
    held = []
    with BodyPrefetcher(bucket, items, workers=8, max_bytes=300) as bodies:
        for source in items:
            time.sleep(0.005)  # the uploads are slower than the reads: the buffer fills up to its cap
            held.append(len(bucket.reads) - len(held))
            bodies(source)
    assert max(held) <= 3  # 300 bytes / 100 bytes


def test_an_object_larger_than_the_cap_still_goes_through_alone():
    items = [item(1, size=5_000), item(2, size=10)]
    with BodyPrefetcher(Bucket(), items, workers=2, max_bytes=100) as bodies:
        assert bodies(items[0]) == b"docs/1.mddocs/1.md"
        assert bodies(items[1]) == b"docs/2.mddocs/2.md"


def test_a_body_that_cannot_be_read_fails_that_upload_only():
    items = [item(n) for n in range(5)]
    with BodyPrefetcher(Bucket(broken=frozenset({"docs/2.md"})), items, workers=2, max_bytes=1_000) as bodies:
        results = {}
        for source in items:
            try:
                results[source.source_key] = bodies(source)
            except OSError as exc:
                results[source.source_key] = str(exc)
    assert results["docs/2.md"] == "NoSuchKey: docs/2.md"
    assert all(isinstance(results[f"docs/{n}.md"], bytes) for n in (0, 1, 3, 4))


def test_a_body_never_planned_is_read_directly():
    with BodyPrefetcher(Bucket(), [item(1)], workers=1, max_bytes=100) as bodies:
        assert bodies(item(99)) == b"docs/99.mddocs/99.md"


@pytest.mark.parametrize("workers", [1, 4])
def test_concurrent_uploads_each_get_their_body(workers):
    items = [item(n, size=50) for n in range(200)]
    with BodyPrefetcher(Bucket(0.0005), items, workers=workers, max_bytes=500) as bodies, ThreadPoolExecutor(8) as pool:
        got = list(pool.map(bodies, items))
    assert got == [i.source_key.encode() * 2 for i in items]


def test_closing_early_stops_the_reads_and_leaves_no_thread():
    before = threading.active_count()
    bucket = Bucket(0.01)
    prefetcher = BodyPrefetcher(bucket, [item(n) for n in range(500)], workers=2, max_bytes=10_000)
    prefetcher.close()
    assert len(bucket.reads) < 500
    assert threading.active_count() == before
