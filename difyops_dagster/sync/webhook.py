"""Tell whatever routes traffic that the active dataset changed: one JSON POST with the dataset ids.

Retried a few times (connection errors, 429, 5xx; the payload carries an `event_id`, so a receiver can drop a
repeat). Never fatal: the colour has already changed when this is sent, and the outcome is reported on the
`webhook_delivered` check of `active_colour`. The token is sent as a Bearer header and never appears in the
outcome, a log line or an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

RETRY = Retry(
    total=3,
    backoff_factor=0.5,
    status_forcelist=(429, 500, 502, 503, 504),
    allowed_methods=frozenset({"POST"}),
    raise_on_status=False,
)


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    detail: str


def post_webhook(url: str, token: str | None, payload: dict, timeout_s: float = 10.0) -> Delivery:
    headers = {"Content-Type": "application/json", "User-Agent": "difyops-dagster"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=RETRY))
        session.mount("https://", HTTPAdapter(max_retries=RETRY))
        try:
            response = session.post(url, json=payload, headers=headers, timeout=timeout_s)
        except requests.RequestException as exc:
            return Delivery(False, f"not delivered: {type(exc).__name__} (after retries)")
    if response.status_code >= 400:
        return Delivery(False, f"not delivered: HTTP {response.status_code}")
    return Delivery(True, f"delivered: HTTP {response.status_code}")
