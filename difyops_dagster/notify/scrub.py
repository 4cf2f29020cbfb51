"""Masking secrets in text that leaves the process: delivery errors, run-failure messages, anything logged.

Two nets: the literal values of every configured secret (read from the environment variables the settings
name), and patterns for credentials that were never configured here but can still sit in an exception
(`Bearer …`, `access_token=…`, Dify `app-…` keys, webhook paths, passwords in URLs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"
MIN_SECRET_LENGTH = 4
PATTERNS = (
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + MASK),
    (
        re.compile(r"(?i)\b(access_token|refresh_token|csrf_token|token|key|sign|secret|password|passwd)=([^&\s'\"]+)"),
        r"\1=" + MASK,
    ),
    (re.compile(r"(?i)([\"'](?:password|secret|token|api_key)[\"']\s*:\s*[\"'])[^\"']*"), r"\1" + MASK),
    (re.compile(r"\b(app|dataset)-[A-Za-z0-9]{12,}\b"), r"\1-" + MASK),
    (re.compile(r"(hooks\.slack\.com/services/)\S+"), r"\1" + MASK),
    (re.compile(r"(?i)(https?://)[^/\s:@]+:[^/\s@]+@"), r"\1" + MASK + "@"),
)


def scrub_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret value and every credential-looking token replaced by `***`."""
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text
