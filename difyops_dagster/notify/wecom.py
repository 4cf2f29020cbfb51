"""WeCom (企业微信) group robots: a Markdown message of at most 4,096 UTF-8 bytes; errors are HTTP 200 + errcode."""

from __future__ import annotations

from typing import Any

import requests

from difyops_dagster.notify.message import Delivery, Notification, clip_utf8
from difyops_dagster.notify.webhook import errcode_accepted, post_webhook

MAX_BYTES = 4096


def wecom_payload(notification: Notification) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"content": clip_utf8(notification.markdown(), MAX_BYTES)}}


def send_wecom(notification: Notification, session: requests.Session, url: str, timeout_s: float) -> Delivery:
    return post_webhook("wecom", session, url, wecom_payload(notification), timeout_s, errcode_accepted)
