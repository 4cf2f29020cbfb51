"""Tell whatever routes traffic that the active dataset changed: one POST of JSON, reported, never fatal."""

from __future__ import annotations

import requests


def notify_colour_change(url: str, token: str | None, payload: dict, timeout_s: float = 10.0) -> str:
    """POST `payload`; return a one-line outcome for metadata (never the token)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = requests.post(url, json=payload, headers=headers, timeout=timeout_s)
    except requests.RequestException as exc:
        return f"webhook failed: {type(exc).__name__}"
    if response.status_code >= 400:
        return f"webhook failed: HTTP {response.status_code}"
    return f"webhook delivered: HTTP {response.status_code}"
