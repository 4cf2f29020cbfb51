"""POSTing JSON to a chat webhook, the part Slack, DingTalk and WeCom share.

Retries are urllib3's: only where the message provably was not accepted (connection refused, 429), because
a webhook POST is not idempotent and a duplicate alert is worse than a reported failure. A failure is
described by the host and the exception class, never by the URL, whose path or query is the credential.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from difyops_dagster.notify.message import Delivery


def webhook_session() -> requests.Session:
    retry = Retry(
        total=2,
        connect=2,
        read=0,
        other=0,
        status=2,
        status_forcelist=(429,),
        allowed_methods=None,
        backoff_factor=0.5,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.headers["User-Agent"] = "difyops-dagster"
    return session


def post_webhook(
    channel: str,
    session: requests.Session,
    url: str,
    payload: dict[str, Any],
    timeout_s: float,
    accepted: Callable[[requests.Response], str | None],
) -> Delivery:
    """POST `payload`; `accepted` returns None when the service took the message, else why it did not."""
    host = urlsplit(url).hostname or "?"
    try:
        response = session.post(url, json=payload, timeout=timeout_s)
    except requests.RequestException as exc:
        return Delivery(channel, False, f"{type(exc).__name__} while posting to {host}")
    with response:
        problem = accepted(response)
    if problem is None:
        return Delivery(channel, True, f"delivered to {host}")
    return Delivery(channel, False, f"{host} refused the message: {problem}")


def errcode_accepted(response: requests.Response) -> str | None:
    """DingTalk and WeCom answer HTTP 200 even on failure; `errcode` 0 is the only success."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}, body is not JSON: {response.text[:200]!r}"
    if response.status_code == 200 and isinstance(body, dict) and body.get("errcode") == 0:
        return None
    errcode = body.get("errcode") if isinstance(body, dict) else None
    errmsg = body.get("errmsg") if isinstance(body, dict) else None
    return f"HTTP {response.status_code}, errcode {errcode}: {str(errmsg)[:200]}"
