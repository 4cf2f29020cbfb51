"""A fault-injecting HTTP proxy in front of a real S3 server (moto), on 127.0.0.1, in a thread of the test process.

Why a proxy and not boto3 event hooks: the product builds its own boto3 clients inside Dagster resources, and a hook
would replace botocore's parsing and retry path with our own code; in front of the server, the product's real
client sees real HTTP answers (S3's XML error bodies, `503 SlowDown`, a page of a listing answering 500) and its
real retry handler decides. The proxy forwards everything verbatim (moto accepts any signature) and applies the
first matching rule, at most `times` times:

- `status` + `code`: answer S3's XML error instead of forwarding (nothing reaches the server);
- `delete_first`: delete the requested object on the server, then forward (the object vanished between the
  listing and the download: the server's own `NoSuchKey` comes back).

`max_keys` caps every listing page (S3 may return fewer keys than asked, with `IsTruncated`), so a handful of
objects is listed over several pages and "the second page fails" is a real continuation request.
"""

from __future__ import annotations

import http.client
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}


@dataclass
class S3Fault:
    method: str | None = None
    path: str = ".*"
    query: str = ".*"
    status: int | None = None
    code: str = "InternalError"
    delete_first: bool = False
    times: int | None = None
    fired: int = 0
    _path: re.Pattern = field(init=False, repr=False)
    _query: re.Pattern = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._path, self._query = re.compile(self.path), re.compile(self.query)

    def matches(self, method: str, path: str, query: str) -> bool:
        return (
            (self.method is None or self.method == method)
            and bool(self._path.search(path))
            and bool(self._query.search(query))
            and (self.times is None or self.fired < self.times)
        )


class S3FaultProxy:
    def __init__(self, upstream: str):
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.lock = threading.Lock()
        self.rules: list[S3Fault] = []
        self.max_keys: int | None = None
        self.log: list[tuple[str, str, str, int]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.endpoint_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="s3-fault-proxy", daemon=True)

    def start(self) -> S3FaultProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self, rules: list[S3Fault] | None = None, max_keys: int | None = None) -> None:
        with self.lock:
            self.rules = list(rules or [])
            self.max_keys = max_keys
            self.log = []

    def pick(self, method: str, path: str, query: str) -> S3Fault | None:
        with self.lock:
            for rule in self.rules:
                if rule.matches(method, path, query):
                    rule.fired += 1
                    return rule
        return None

    def requests(self) -> list[tuple[str, str, str, int]]:
        """(method, path, query, status) of every request, in arrival order."""
        with self.lock:
            return list(self.log)

    def upstream(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)


def _error_body(code: str, path: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
        f"<Message>Injected {code}</Message><Resource>{path}</Resource>"
        "<RequestId>fault-proxy</RequestId></Error>"
    ).encode()


def _handler(proxy: S3FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return None

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    chunk = self.rfile.read(size)
                    self.rfile.readline()
                    if size == 0:
                        return b"".join(chunks)
                    chunks.append(chunk)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in HOP_HEADERS and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _forward(self, method: str, target: str, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
            headers["Content-Length"] = str(len(body))
            connection = proxy.upstream()
            try:
                connection.request(method, target, body=body, headers=headers)
                response = connection.getresponse()
                return response.status, response.getheaders(), response.read()
            finally:
                connection.close()

        def _handle(self) -> None:
            body = self._body()
            parts = urlsplit(self.path)
            query = parts.query
            if proxy.max_keys is not None and "list-type=2" in query:
                pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "max-keys"]
                query = urlencode([*pairs, ("max-keys", str(proxy.max_keys))])
            target = parts.path + (f"?{query}" if query else "")
            rule = proxy.pick(self.command, parts.path, query)
            if rule is not None and rule.status is not None:
                status, headers, payload = (
                    rule.status,
                    [("Content-Type", "application/xml")],
                    _error_body(rule.code, parts.path),
                )
            else:
                if rule is not None and rule.delete_first:
                    self._forward("DELETE", parts.path, b"")
                status, headers, payload = self._forward(self.command, target, body)
            with proxy.lock:
                proxy.log.append((self.command, parts.path, query, status))
            self._reply(status, headers, payload)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

    return Handler
