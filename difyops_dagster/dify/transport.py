"""HTTP plumbing for the Dify client: sessions with retries, timeouts on every call, a client-side rate limit.

Retries are urllib3's `Retry` on the session's `HTTPAdapter` (exponential backoff with jitter capped at
`backoff_max_s`; `Retry-After` on 429/503 honoured up to the same cap), not a hand-written loop. Whether a
call may be repeated depends on the *endpoint*, not on its HTTP method (a metadata POST is idempotent, a
document POST is not), so each transport holds two sessions and every call names its policy (`safe=`):

- **safe** — every GET, document DELETE, metadata writes (they replace all values, so a repeat changes
  nothing), `indexing-status`, task stop: retried on 429, 500/502/503/504, refused and dropped
  connections and read timeouts;
- **unsafe** — document create/update (file or text), dataset and metadata-field create, workflow run,
  console login: retried only where Dify provably did nothing, a refused connection or a 429 rejection.

An unsafe call that failed after Dify may have acted (5xx, dropped or timed-out read) raises `DifyError`
with `retryable=True`; the caller decides: the sync re-derives state from Dify (which upserts documents by
name), and a workflow that may have run is looked up, never silently re-run. urllib3's `allowed_methods` is
therefore left open (`None`) on both policies: the policy, chosen per endpoint, already says what may repeat.

The rate limit is a token bucket written here (a dozen lines) because it must be one limit shared by every
session of a resource — the dataset key's and each app key's, safe and unsafe — across threads.
`requests-ratelimiter` limits per session or host unless given a persistent SQLite/Redis backend, and
`pyrate-limiter`, `limits` and `token-bucket` bring storage backends and non-blocking APIs we would wrap
anyway. Retries happen inside urllib3 and do not take tokens: they are already spaced by backoff.

The API key lives in the sessions' default headers only. Nothing here logs; urllib3's own DEBUG lines carry
the method, the URL (ids and query parameters such as `keyword`) and the status, never headers.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from difyops_dagster.dify.errors import error_from_exception, error_from_response, malformed

RETRY_STATUSES = (429, 500, 502, 503, 504)
# Connections kept per host: the most calls one client has in flight (`sync.upload_concurrency` allows 256). With
# fewer, every call beyond the pool opened a fresh connection and closed it afterwards (urllib3: "Connection pool
# is full, discarding connection"), 179 times over the two 400-file syncs of hardening/test_load.py. Idle
# connections cost nothing until used: the pool only grows to what is really in flight.
POOL_MAXSIZE = 256


@dataclass(frozen=True)
class TransportOptions:
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 60.0
    max_retries: int = 5
    backoff_factor_s: float = 0.5
    backoff_max_s: float = 30.0
    rate_limit_per_second: float = 20.0


class RateLimiter:
    """Token bucket: at most `rate` requests per second on average, bursts of up to `rate` (min 1); 0 = off."""

    def __init__(self, rate: float):
        self.rate = rate
        self.capacity = max(rate, 1.0)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        if self.rate <= 0:
            return
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            time.sleep(wait)


class _Retry(Retry):
    """urllib3's `Retry`, with `Retry-After` capped at `backoff_max` like every other wait.

    A server asking for an hour would otherwise hold a Dagster step (and its pool slot) for an hour; after the
    capped waits the call fails with a retryable `DifyError` and the run's retry policy comes back later.
    """

    def get_retry_after(self, response) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.backoff_max)


def _retry(options: TransportOptions, safe: bool) -> Retry:
    common = {
        "total": options.max_retries,
        "connect": options.max_retries,
        "status": options.max_retries,
        "backoff_factor": options.backoff_factor_s,
        "backoff_max": options.backoff_max_s,
        "backoff_jitter": options.backoff_factor_s,
        "respect_retry_after_header": True,
        "raise_on_status": False,
        "allowed_methods": None,  # the policy is chosen per endpoint (module docstring)
    }
    if safe:
        return _Retry(read=options.max_retries, other=options.max_retries, status_forcelist=RETRY_STATUSES, **common)
    return _Retry(read=0, other=0, status_forcelist=(429,), **common)


def _session(options: TransportOptions, safe: bool, api_key: str) -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=_retry(options, safe), pool_connections=4, pool_maxsize=POOL_MAXSIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["Authorization"] = f"Bearer {api_key}"
    session.headers["User-Agent"] = "difyops-dagster"
    return session


class DifyTransport:
    """Sends one Dify request and returns the response, or raises `DifyError` (never with the key in it)."""

    def __init__(self, base_url: str, api_key: str, options: TransportOptions, limiter: RateLimiter):
        self.base_url = base_url.rstrip("/")
        self.options = options
        self.limiter = limiter
        self._safe = _session(options, True, api_key)
        self._unsafe = _session(options, False, api_key)

    def __repr__(self) -> str:
        return f"DifyTransport({self.base_url!r})"

    def request(
        self,
        method: str,
        path: str,
        *,
        safe: bool,
        ok: tuple[int, ...] = (200,),
        stream: bool = False,
        read_timeout_s: float | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """`read_timeout_s` overrides the configured read timeout for one call (a blocking workflow run)."""
        endpoint = f"{method} {path}"
        session = self._safe if safe else self._unsafe
        self.limiter.acquire()
        try:
            response = session.request(
                method,
                self.base_url + path,
                timeout=(self.options.connect_timeout_s, read_timeout_s or self.options.read_timeout_s),
                stream=stream,
                allow_redirects=False,  # a redirect would turn a POST into a GET; say where it points instead
                **kwargs,
            )
        except requests.RequestException as exc:
            raise error_from_exception(endpoint, exc) from None
        if response.status_code not in ok:
            error = error_from_response(endpoint, response)
            response.close()
            raise error
        return response

    def json(self, method: str, path: str, *, safe: bool, ok: tuple[int, ...] = (200,), **kwargs: Any) -> dict:
        """The JSON object Dify answered (every success body of the service API is one)."""
        response = self.request(method, path, safe=safe, ok=ok, **kwargs)
        try:
            body = response.json()
        except ValueError:
            raise malformed(f"{method} {path}", response.status_code, "body is not JSON") from None
        if not isinstance(body, dict):
            raise malformed(
                f"{method} {path}", response.status_code, f"expected a JSON object, got {type(body).__name__}"
            )
        return body

    def close(self) -> None:
        self._safe.close()
        self._unsafe.close()
