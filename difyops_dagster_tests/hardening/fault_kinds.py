"""The fault column of the matrix: what the stand-in does to one Dify call, and the Dify code a failure must name.

Every fault is as short-lived as the Dify trouble it imitates (`times=`), except the two that are about slowness:
`timeout` answers every attempt later than the client's read timeout (the call can only fail, or be found done on
a later read), and `slow under timeout` answers every attempt just inside it (the call must simply succeed).
`slow over timeout` is one late answer, which a retry (or Dify's upsert by name, for an upload) absorbs.

Timing: the matrix runs the client with `READ_TIMEOUT_S`; latencies are set against it so that each cell stays
within a few seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

READ_TIMEOUT_S = 1.0  # small, yet well above a loaded CI machine's answer time for calls nobody slows down
UNDER_MS = 500  # answered 0.5 s inside the read timeout
OVER_MS = 1500  # answered 0.5 s after the client gave up (Dify still does the work)

# Dify settings of every matrix cell: a small read timeout, Dify's retries kept (2) but with short waits.
DIFY_OVERRIDES = {
    "read_timeout_s": READ_TIMEOUT_S,
    "connect_timeout_s": 2,
    "max_retries": 2,
    "backoff_factor_s": 0.01,
    "backoff_max_s": 2,
    "rate_limit_per_second": 0,
}


@dataclass(frozen=True)
class Fault:
    name: str
    rule: dict[str, Any]
    code: str | None  # the Dify client's code a failure caused by this fault carries
    must_converge: bool = False  # no failure is acceptable (slowness inside the timeout)

    def rules(self, path: str, method: str) -> list[dict[str, Any]]:
        return [{"path": path, "method": method, **self.rule}]


FAULTS = [
    Fault("429 retry-after", {"status": 429, "retry_after": 1, "times": 1}, "too_many_requests"),
    Fault("429 no retry-after", {"status": 429, "times": 1}, "too_many_requests"),
    Fault("500", {"status": 500, "times": 1}, "internal_server_error"),
    Fault("502", {"status": 502, "times": 1}, "bad_gateway"),
    Fault("503", {"status": 503, "times": 1}, "service_unavailable"),
    Fault("timeout", {"latency_ms": OVER_MS}, "timeout"),
    Fault("dropped connection", {"drop": True, "times": 1}, "connection_error"),
    Fault("malformed json", {"malformed": True, "times": 1}, "malformed_response"),
    Fault("slow under timeout", {"latency_ms": UNDER_MS}, None, must_converge=True),
    Fault("slow over timeout", {"latency_ms": OVER_MS, "times": 1}, "timeout"),
]


def error_texts(result) -> list[str]:
    """Every failure text a person can read off a run: step failures (with their causes), failed checks and the
    per-file failures table of each materialization."""
    texts: list[str] = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            while error is not None:
                texts.append(error.message)
                error = error.cause or error.context
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            texts.append(evaluation.description or "")
            examples = evaluation.metadata.get("examples")
            texts.append(str(getattr(examples, "value", "")))
    for event in result.get_asset_materialization_events():
        failures = event.materialization.metadata.get("failures")
        for record in _records(failures):
            texts.append(str(record.data.get("error", "")))
    return [t for t in texts if t]


def _records(value: Any) -> Iterable[Any]:
    return getattr(value, "records", None) or ()


def names_call_and_code(texts: list[str], endpoint: str, code: str) -> bool:
    """One failure text names both the call (`METHOD /path` as the client prints it) and the code."""
    pattern = re.compile(endpoint)
    return any(pattern.search(text) and code in text for text in texts)
