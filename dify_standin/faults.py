"""Injected trouble: global latency, per-route fault rules, a pause, and the request log.

A rule matches on method and a regular expression over the path and then, with probability `rate` and at
most `times` times, does one thing: sleeps `latency_ms` and carries on, answers `status` with Dify's error
JSON (optionally with `Retry-After`), answers a malformed JSON body, or drops the connection without any
response. Rules are checked in order; the first that fires wins.
"""

from __future__ import annotations

import json
import random
import re
import socket
import threading
import time
from dataclasses import dataclass, field

from flask import Response, request

ERROR_CODES = {
    400: "invalid_param",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
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
        return rng.random() < self.rate

    def describe(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "pattern"}


class Faults:
    def __init__(self, seed: int = 1) -> None:
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.rules: list[FaultRule] = []
            self.latency_ms = 0.0
            self.paused_until = 0.0
            self.log: list[dict] = []

    def set_rules(self, rules: list[dict]) -> None:
        parsed = [FaultRule(**rule) for rule in rules]
        with self.lock:
            self.rules = parsed

    def pick(self, method: str, path: str) -> FaultRule | None:
        with self.lock:
            for rule in self.rules:
                if rule.matches(method, path, self.rng):
                    rule.fired += 1
                    return rule
        return None

    def record(self, method: str, path: str, route: str | None, status: int, started: float) -> None:
        entry = {"method": method, "path": path, "route": route, "status": status, "time": started}
        with self.lock:
            self.log.append(entry)

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
        if rule.latency_ms:
            time.sleep(rule.latency_ms / 1000)
        if rule.drop:
            sock = request.environ.get("werkzeug.socket")
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                finally:
                    sock.close()
            return Response(status=500)
        if rule.malformed:
            return Response('{"data": [{"id": ', status=rule.status or 200, mimetype="application/json")
        if rule.status:
            code = rule.code or ERROR_CODES.get(rule.status, "internal_server_error")
            body = {"code": code, "message": rule.message or f"Injected fault {rule.status}", "status": rule.status}
            response = Response(json.dumps(body), status=rule.status, mimetype="application/json")
            if rule.retry_after is not None:
                response.headers["Retry-After"] = str(rule.retry_after)
            return response
        return None
