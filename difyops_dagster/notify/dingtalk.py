"""DingTalk group robots: Markdown messages, signed with the robot's secret when signing is on.

Signing (DingTalk "加签"): `sign = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))`
with `timestamp` in milliseconds, both appended to the webhook URL; DingTalk refuses a timestamp more than an
hour off (errcode 310000). Failures come back as HTTP 200 with a non-zero `errcode`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote_plus

import requests

from difyops_dagster.notify.message import Delivery, Notification, clip_utf8
from difyops_dagster.notify.webhook import errcode_accepted, post_webhook

MAX_BYTES = 18000  # DingTalk allows 20,000 bytes of Markdown; keep a margin for the title


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def dingtalk_payload(notification: Notification) -> dict[str, Any]:
    return {
        "msgtype": "markdown",
        "markdown": {"title": notification.title, "text": clip_utf8(notification.markdown(), MAX_BYTES)},
    }


def send_dingtalk(
    notification: Notification,
    session: requests.Session,
    url: str,
    secret: str | None,
    timeout_s: float,
    timestamp_ms: int,
) -> Delivery:
    target = dingtalk_signed_url(url, secret, timestamp_ms) if secret else url
    return post_webhook("dingtalk", session, target, dingtalk_payload(notification), timeout_s, errcode_accepted)
