"""HTTP plumbing for the Dify client: sessions with retries, timeouts on every call, a client-side rate limit.

Retries are urllib3's `Retry` on the session's adapter (exponential backoff with jitter, `Retry-After`
honoured for 429/503), not a hand-written loop. Two retry policies, because not every Dify call is safe to
repeat:
- *safe* calls (reads, deletes, stop, metadata writes — which replace every value, so a repeat changes
  nothing) retry on 429, 5xx, connection errors and read errors;
- *unsafe* calls (document create/update, workflow run) retry only where the request provably had no effect:
  a refused connection or a 429 rejection. A 5xx or a dropped read surfaces as `DifyError`; the sync
  re-derives state from Dify on the next run, and a workflow that may have run is never silently re-run.

The rate limit is a small token bucket written here because it has to be shared by every session of one
resource across threads and costs a dozen lines; the libraries that offer one bring storage backends we do
not need. Retries happen inside urllib3 and are not rate limited (they are already spaced by backoff).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from difyops_dagster.dify.errors import DifyError, error_from_exception, error_from_response

RETRY_STATUSES = (429, 500, 502, 503, 504)


@dataclass(frozen=True)
class TransportOptions:
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 60.0
    max_retries: int = 5
    backoff_factor_s: float = 0.5
    backoff_max_s: float = 30.0
    rate_limit_per_second: float = 20.0


class RateLimiter:
    """Token bucket: at most `rate` requests per second on average, bursts of up to `rate` requests."""

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
        "allowed_methods": None,  # which calls may repeat is decided by the caller picking a session
    }
    if safe:
        return Retry(read=options.max_retries, other=options.max_retries, status_forcelist=RETRY_STATUSES, **common)
    return Retry(read=0, other=0, status_forcelist=(429,), **common)


def _session(options: TransportOptions, safe: bool, api_key: str) -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=_retry(options, safe), pool_connections=4, pool_maxsize=32)
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
                **kwargs,
            )
        except requests.RequestException as exc:
            raise error_from_exception(endpoint, exc) from None
        if response.status_code not in ok:
            error = error_from_response(endpoint, response)
            response.close()
            raise error
        return response

    def json(self, method: str, path: str, *, safe: bool, ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        response = self.request(method, path, safe=safe, ok=ok, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise DifyError(
                f"{method} {path}", response.status_code, "malformed_response", "body is not JSON"
            ) from None

    def close(self) -> None:
        self._safe.close()
        self._unsafe.close()
