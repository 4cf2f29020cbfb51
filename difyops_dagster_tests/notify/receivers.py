"""Local stand-ins for the chat services, run as a real HTTP process: Slack, DingTalk and WeCom webhooks.

Each route checks what the real service checks and answers the way it does, so a wrong payload or signature
fails here as it would in production:
- Slack `POST /services/<path>`: known path, JSON with a non-empty `text` and well-formed `blocks`
  (header <= 150 chars, section text <= 3000) -> `ok`; else 400 `invalid_payload` / 404 `no_service`.
- DingTalk `POST /robot/send?access_token=&timestamp=&sign=`: known token (else errcode 300001), when a secret
  is configured a timestamp within an hour and `sign == base64(HMAC-SHA256(secret, f"{ts}\\n{secret}"))`
  (else 310000), and a `markdown` message with `title` and `text` (else 40035). HTTP 200 in every case.
- WeCom `POST /cgi-bin/webhook/send?key=`: known key (else 93000), `markdown.content` of at most 4096 bytes
  (else 40058). HTTP 200 in every case.
Accepted messages are listed at `GET /_received`; `DELETE /_received` forgets them.

    python -m difyops_dagster_tests.notify.receivers --port N --slack-path T/B/X --dingtalk-token T \
        --dingtalk-secret S --wecom-key K
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit


class Receiver(BaseHTTPRequestHandler):
    config: argparse.Namespace
    received: ClassVar[list[dict]] = []
    lock: ClassVar[threading.Lock] = threading.Lock()

    def log_message(self, *args) -> None:  # keep the process output quiet
        pass

    def _answer(self, status: int, body: object) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if isinstance(body, str) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/_health":
            return self._answer(200, {"ok": True})
        if self.path == "/_received":
            with self.lock:
                return self._answer(200, {"received": list(self.received)})
        return self._answer(404, {"error": "not found"})

    def do_DELETE(self) -> None:
        with self.lock:
            self.received.clear()
        self._answer(200, {"ok": True})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if url.path.startswith("/services/"):
            return self._slack(url.path.removeprefix("/services/"), body)
        if url.path == "/robot/send":
            return self._dingtalk(query, body)
        if url.path == "/cgi-bin/webhook/send":
            return self._wecom(query, body)
        return self._answer(404, {"error": "not found"})

    def _keep(self, service: str, body: dict, query: dict) -> None:
        with self.lock:
            self.received.append({"service": service, "body": body, "query": query})

    def _slack(self, path: str, body) -> None:
        if path != self.config.slack_path:
            return self._answer(404, "no_service")
        ok = isinstance(body, dict) and isinstance(body.get("text"), str) and body["text"].strip()
        blocks = body.get("blocks", []) if isinstance(body, dict) else None
        ok = ok and isinstance(blocks, list) and all(isinstance(b, dict) and b.get("type") for b in blocks)
        for block in blocks or []:
            text = (block.get("text") or {}).get("text", "")
            limit = 150 if block.get("type") == "header" else 3000
            ok = ok and len(text) <= limit
        if not ok:
            return self._answer(400, "invalid_payload")
        self._keep("slack", body, {})
        return self._answer(200, "ok")

    def _dingtalk(self, query: dict, body) -> None:
        if query.get("access_token") != self.config.dingtalk_token:
            return self._answer(200, {"errcode": 300001, "errmsg": "token is not exist"})
        if self.config.dingtalk_secret:
            secret = self.config.dingtalk_secret
            timestamp = query.get("timestamp", "")
            if not timestamp.isdigit() or abs(int(timestamp) - time.time() * 1000) > 3600_000:
                return self._answer(200, {"errcode": 310000, "errmsg": "invalid timestamp"})
            digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
            if query.get("sign") != base64.b64encode(digest).decode():
                return self._answer(200, {"errcode": 310000, "errmsg": "sign not match"})
        markdown = body.get("markdown") if isinstance(body, dict) else None
        if not (
            body.get("msgtype") == "markdown"
            and isinstance(markdown, dict)
            and isinstance(markdown.get("title"), str)
            and isinstance(markdown.get("text"), str)
            and len(markdown["text"].encode()) <= 20000
        ):
            return self._answer(200, {"errcode": 40035, "errmsg": "缺少参数 json"})
        self._keep("dingtalk", body, {k: v for k, v in query.items() if k != "access_token"})
        return self._answer(200, {"errcode": 0, "errmsg": "ok"})

    def _wecom(self, query: dict, body) -> None:
        if query.get("key") != self.config.wecom_key:
            return self._answer(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
        markdown = body.get("markdown") if isinstance(body, dict) else None
        content = markdown.get("content") if isinstance(markdown, dict) else None
        if body.get("msgtype") != "markdown" or not isinstance(content, str) or not content:
            return self._answer(200, {"errcode": 40008, "errmsg": "invalid message type"})
        if len(content.encode()) > 4096:
            return self._answer(200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"})
        self._keep("wecom", body, {})
        return self._answer(200, {"errcode": 0, "errmsg": "ok"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--slack-path", required=True)
    parser.add_argument("--dingtalk-token", required=True)
    parser.add_argument("--dingtalk-secret", default="")
    parser.add_argument("--wecom-key", required=True)
    args = parser.parse_args()
    Receiver.config = args
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Receiver)
    server.serve_forever()


if __name__ == "__main__":
    main()
