"""The one exception the Dify client raises.

    Exception
     └── DifyError          status / code / message / endpoint / retryable
         (status None: the request got no HTTP answer — code `connection_error` or `timeout`)

Built from Dify's error JSON `{code, message, status}` (0.x bodies lack `status`; reqparse bodies add
`params`), from the HTML pages nginx and Flask send for 404/413, or from an empty/malformed body. The text
never carries a header or a key: `endpoint` is `METHOD /path` with ids only.
"""

from __future__ import annotations

import re

import requests
from urllib3.exceptions import ConnectTimeoutError, ReadTimeoutError


class DifyError(Exception):
    def __init__(self, endpoint: str, status: int | None, code: str, message: str):
        self.endpoint = endpoint
        self.status = status
        self.code = code
        self.message = message
        shown = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"Dify {endpoint} failed ({shown}, {code}): {message}")

    @property
    def retryable(self) -> bool:
        """Worth another try later: no answer at all, rate limited, or a server-side failure."""
        return self.status is None or self.status == 429 or self.status >= 500

    def __reduce__(self):
        return (type(self), (self.endpoint, self.status, self.code, self.message))


_TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_entity_too_large"}


def error_from_response(endpoint: str, response: requests.Response) -> DifyError:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and ("code" in body or "message" in body):
        message = str(body.get("message") or "").strip() or response.reason or ""
        if body.get("params"):
            message = f"{message} (parameter {body['params']})"
        return DifyError(endpoint, status, str(body.get("code") or f"http_{status}"), message)
    text = response.text or ""
    title = _TITLE.search(text)
    message = title.group(1).strip() if title else (text.strip()[:200] or response.reason or "empty body")
    return DifyError(endpoint, status, _HTML_CODES.get(status, f"http_{status}"), message)


def error_from_exception(endpoint: str, exc: requests.RequestException) -> DifyError:
    """Transport failures, described by kind only (the exception text can be long and is not needed)."""
    cause = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", cause)  # urllib3's MaxRetryError wraps the cause; a stalled stream does not
    if isinstance(exc, requests.Timeout) or isinstance(reason, ReadTimeoutError | ConnectTimeoutError):
        connect = isinstance(exc, requests.ConnectTimeout) or isinstance(reason, ConnectTimeoutError)
        kind = "connect timeout" if connect else "read timeout"
        return DifyError(endpoint, None, "timeout", f"{kind} after retries")
    if isinstance(exc, requests.ConnectionError):
        return DifyError(endpoint, None, "connection_error", "connection failed or dropped after retries")
    return DifyError(endpoint, None, "request_error", type(exc).__name__)


def malformed(endpoint: str, status: int, what: str) -> DifyError:
    return DifyError(endpoint, status, "malformed_response", what)
