"""Object bodies read from S3 ahead of the upload threads, so that an upload thread only waits on Dify.

Without it each upload thread first reads its object, then sends it: with S3 and Dify each taking a round trip,
the `upload_concurrency` Dify calls in flight were half the time S3 reads (the sync reached 26 % of the bound its
concurrency and Dify's latency allow). Here a pool of its own reads bodies in the order the uploads will ask for
them, into a buffer capped in bytes (`max_bytes`: a body is started only when it fits, or when the buffer is
empty, so one object larger than the cap still goes through alone). An upload takes its body out of the buffer
(waiting if it is still on its way); a body that could not be read raises for that upload only, as a direct read
would. A body asked for out of turn (never planned, or after `close`) is read directly.

Written here because no library does "read ahead in this order, at most N bytes held": `concurrent.futures`
gives the pool; the byte budget and the hand-over are a condition variable's dozen lines.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from difyops_dagster.sync.models import SourceItem

ContentLoader = Callable[[SourceItem], bytes]


class BodyPrefetcher:
    """Reads `items`' bodies with `workers` threads, in order, holding at most `max_bytes` not yet taken."""

    def __init__(self, load: ContentLoader, items: Sequence[SourceItem], *, workers: int, max_bytes: int):
        self._load = load
        self._max_bytes = max_bytes
        self._held = 0  # bytes read or being read and not yet taken
        self._closed = False
        self._ready = threading.Condition()
        self._futures: dict[str, Future[bytes]] = {}
        self._sizes: dict[str, int] = {}
        self._pending = {item.source_key for item in items}  # planned, not yet started
        self._pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="s3-prefetch")
        self._feeder = threading.Thread(target=self._feed, args=(list(items),), name="s3-prefetch-feed", daemon=True)
        self._feeder.start()

    def _feed(self, items: list[SourceItem]) -> None:
        for item in items:
            size = max(item.size, 1)
            with self._ready:
                self._ready.wait_for(
                    lambda size=size: self._closed or self._held == 0 or self._held + size <= self._max_bytes
                )
                if self._closed:
                    return
                self._held += size
                self._pending.discard(item.source_key)
                self._sizes[item.source_key] = size
                self._futures[item.source_key] = self._pool.submit(self._load, item)
                self._ready.notify_all()

    def __call__(self, item: SourceItem) -> bytes:
        """The body of `item`: the one read ahead (waiting for it if needed), or a direct read."""
        with self._ready:
            key = item.source_key
            self._ready.wait_for(lambda: self._closed or key in self._futures or key not in self._pending)
            future = self._futures.pop(key, None)
        if future is None:
            return self._load(item)
        try:
            return future.result()
        finally:
            with self._ready:
                self._held -= self._sizes.pop(item.source_key, 0)
                self._ready.notify_all()

    def close(self) -> None:
        """Stop reading ahead; bodies still held are dropped."""
        with self._ready:
            self._closed = True
            self._pending.clear()
            for future in self._futures.values():
                future.cancel()
            self._ready.notify_all()
        self._feeder.join()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> BodyPrefetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
