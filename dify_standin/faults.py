"""Injected trouble in front of the API, and the request log.

Applied before authentication, like a proxy or an overloaded Dify would: a global latency, a global pause
(every request waits until it ends), and rules. A rule matches on method and a regular expression searched in
the path, then fires with probability `rate` (a seeded RNG, so runs repeat) at most `times` times, and does one
thing: sleeps `latency_ms` and carries on, answers `status` with Dify's error JSON (optionally `Retry-After`),
answers a malformed JSON body, or drops the connection without any response. The first rule that fires wins.

Every request to `/v1` and `/console` is logged as a tuple (cheap enough for benchmarks counting requests);
`entries()` turns them into dicts.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field, fields

from flask import Response, g, request

LOG_LIMIT = 1_000_000
ERROR_CODES = {
    400: "invalid_param",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "file_too_large",
    415: "unsupported_file_type",
    429: "too_many_requests",
    500: "internal_server_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


@dataclass
class FaultRule:
    path: str = ".*"
    method: str | None = None
    status: int | None = None
    retry_after: float | None = None
    message: str | None = None
    code: str | None = None
    malformed: bool = False
    drop: bool = False
    latency_ms: float = 0
    times: int | None = None
    rate: float = 1.0
    fired: int = 0
    pattern: re.Pattern = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.pattern = re.compile(self.path)

    def matches(self, method: str, path: str, rng: random.Random) -> bool:
        if self.method and self.method.upper() != method:
            return False
        if not self.pattern.search(path):
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        return self.rate >= 1.0 or rng.random() < self.rate

    @property
    def kind(self) -> str:
        if self.drop:
            return "drop"
        if self.malformed:
            return "malformed"
        return "status" if self.status else "latency"

    def describe(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "pattern"}


class Faults:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.rules: list[FaultRule] = []
            self.rng = random.Random(1)
            self.latency_ms = 0.0
            self.paused_until = 0.0
            self.log: deque[tuple] = deque(maxlen=LOG_LIMIT)

    def set_rules(self, rules: list[dict], seed: int = 1) -> None:
        """Replace the rules (TypeError / re.error for a bad rule) and restart the RNG from `seed`."""
        parsed = [FaultRule(**rule) for rule in rules]
        with self.lock:
            self.rules = parsed
            self.rng = random.Random(seed)

    def describe(self) -> list[dict]:
        with self.lock:
            return [rule.describe() for rule in self.rules]

    def pick(self, method: str, path: str) -> FaultRule | None:
        with self.lock:
            for rule in self.rules:
                if rule.matches(method, path, self.rng):
                    rule.fired += 1
                    return rule
        return None

    def record(self, method: str, path: str, route: str | None, status: int, started: float) -> None:
        fault = g.get("fault")
        self.log.append((method, path, route, 0 if fault == "drop" else status, started, fault))

    def entries(self) -> list[dict]:
        with self.lock:
            rows = list(self.log)
        keys = ("method", "path", "route", "status", "time", "fault")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def clear_log(self) -> None:
        with self.lock:
            self.log.clear()

    def before(self) -> Response | None:
        """Apply latency, pause and the first matching rule to the current request."""
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        wait = self.paused_until - time.time()
        if wait > 0:
            time.sleep(wait)
        rule = self.pick(request.method, request.path)
        if rule is None:
            return None
        g.fault = rule.kind
        if rule.latency_ms:
            time.sleep(rule.latency_ms / 1000)
        if rule.drop:
            return _drop_connection()
        if rule.malformed:
            return Response('{"data": [{"id": ', status=rule.status or 200, mimetype="application/json")
        if rule.status:
            code = rule.code or ERROR_CODES.get(rule.status, "internal_server_error")
            body = {"code": code, "message": rule.message or f"Injected fault {rule.status}", "status": rule.status}
            response = Response(json.dumps(body), status=rule.status, mimetype="application/json")
            if rule.retry_after is not None:
                response.headers["Retry-After"] = f"{rule.retry_after:g}"
            return response
        return None


def _drop_connection() -> Response:
    """Shut the socket both ways: the client sees the connection close with no response at all. werkzeug's
    later write then fails with a broken pipe, which it treats as a client that went away (quietly)."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    return Response(status=500)
