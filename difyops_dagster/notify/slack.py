"""Slack incoming webhooks: `{"text", "blocks"}` in, the body `ok` out (errors are 4xx with a short code)."""

from __future__ import annotations

from typing import Any

import requests

from difyops_dagster.notify.message import Delivery, Notification
from difyops_dagster.notify.webhook import post_webhook

SECTION_CHARS = 3000  # Slack's limit for one section's text
HEADER_CHARS = 150


def slack_payload(notification: Notification) -> dict[str, Any]:
    lines = "\n".join(f"• {line}" for line in notification.lines)
    if len(lines) > SECTION_CHARS:
        lines = lines[: SECTION_CHARS - 1] + "…"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": notification.title[:HEADER_CHARS]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": lines or "_no details_"}},
    ]
    if notification.link:
        link = notification.link
        shown = f"<{link}|{notification.link_label}>" if link.startswith(("http://", "https://")) else f"`{link}`"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": shown}]})
    return {"text": notification.plain()[:SECTION_CHARS], "blocks": blocks}


def _accepted(response: requests.Response) -> str | None:
    if response.status_code == 200 and response.text.strip() == "ok":
        return None
    return f"HTTP {response.status_code}: {response.text[:200]!r}"


def send_slack(notification: Notification, session: requests.Session, url: str, timeout_s: float) -> Delivery:
    return post_webhook("slack", session, url, slack_payload(notification), timeout_s, _accepted)
