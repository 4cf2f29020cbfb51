"""The one exception the Dify client raises, and how it is read off a failed call.

    Exception
     └── DifyError    status · code · message · endpoint · retryable
           status None: no HTTP answer at all (code `connection_error` or `timeout`; `request_error`
                        when requests refused to send it, e.g. a malformed URL)
           status 200:  an answer the client cannot use (code `malformed_response`)

Built from Dify's error JSON `{code, message, status}` (0.x bodies lack `status`; reqparse bodies add
`params`), from the HTML pages nginx and Flask send for 404/413, or from an empty or malformed body. The
text never carries a header, a key or a query string: `endpoint` is `METHOD /path` with ids only, and
transport failures are described by kind, not by urllib3's message (which repeats the URL).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError

T = TypeVar("T")

# Dify Cloud's knowledge rate limit is a 403 `forbidden`, not a 429, and carries no Retry-After (dify-api.md §8).
_KNOWLEDGE_RATE_LIMIT = re.compile(r"rate limit", re.IGNORECASE)


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
        """Worth another try later: no answer, rate limited (429, or Cloud's 403 knowledge limit), or a 5xx.

        Whether repeating is *safe* is another matter, decided per endpoint (see transport.py).
        """
        if self.status is None:
            return self.code in ("connection_error", "timeout")  # not a malformed URL or header of ours
        if self.status == 429 or self.status >= 500:
            return True
        return self.status == 403 and bool(_KNOWLEDGE_RATE_LIMIT.search(self.message))

    def __reduce__(self):
        return (type(self), (self.endpoint, self.status, self.code, self.message))


NO_MESSAGE = "(Dify gave no message)"
_TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_entity_too_large"}
_MESSAGE_CHARS = 500


def error_from_response(endpoint: str, response: requests.Response) -> DifyError:
    """A non-success answer as `DifyError`: Dify's envelope when there is one, else the page title or body."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and ("code" in body or "message" in body):
        # Dify answers some refusals with an empty message (an unsupported file type, a file over the size
        # limit: 400 invalid_param, ""); the HTTP reason ("Bad Request") would only repeat the status
        message = str(body.get("message") or "").strip() or NO_MESSAGE
        if body.get("params"):
            message = f"{message} (parameter {body['params']})"
        return DifyError(endpoint, status, str(body.get("code") or f"http_{status}"), message[:_MESSAGE_CHARS])
    if 300 <= status < 400:
        location = (response.headers.get("Location") or "?").split("?")[0]
        return DifyError(
            endpoint, status, f"http_{status}", f"redirected to {location}; set dify.base_url to the final URL"
        )
    text = response.text or ""
    title = _TITLE.search(text)
    message = title.group(1).strip() if title else (" ".join(text.split())[:200] or response.reason or "empty body")
    return DifyError(endpoint, status, _HTML_CODES.get(status, f"http_{status}"), message)


def error_from_exception(endpoint: str, exc: requests.RequestException) -> DifyError:
    """A transport failure, by kind only: urllib3's own text repeats the URL (query string included)."""
    cause = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", cause)  # urllib3's MaxRetryError wraps the cause; a stalled stream does not
    if isinstance(reason, NewConnectionError):  # a refused connection (urllib3 files it under connect timeouts)
        return DifyError(
            endpoint,
            None,
            "connection_error",
            "could not connect: refused, or the host name did not resolve (after the retries allowed)",
        )
    if isinstance(exc, requests.Timeout) or isinstance(reason, ReadTimeoutError | ConnectTimeoutError):
        connect = isinstance(exc, requests.ConnectTimeout) or isinstance(reason, ConnectTimeoutError)
        kind = "connect timeout" if connect else "read timeout"
        return DifyError(endpoint, None, "timeout", f"{kind} (after any retries allowed for this call)")
    if isinstance(exc, requests.ConnectionError):
        return DifyError(
            endpoint,
            None,
            "connection_error",
            "connection refused or dropped (after any retries allowed for this call)",
        )
    return DifyError(endpoint, None, "request_error", type(exc).__name__)


def malformed(endpoint: str, status: int, what: str) -> DifyError:
    """A success status whose body the client cannot use (not JSON, missing fields, wrong shape)."""
    return DifyError(endpoint, status, "malformed_response", what)


def parse_model(endpoint: str, parse: Callable[[Any], T], data: Any) -> T:
    """Run a model's tolerant parser; a body missing even the required fields is a `malformed_response`."""
    try:
        return parse(data)
    except (KeyError, TypeError, ValueError, AttributeError, StopIteration) as exc:
        raise malformed(endpoint, 200, f"unexpected response shape ({type(exc).__name__} {exc})") from None
