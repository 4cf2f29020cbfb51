"""Literal inputs for the report tests: Shanghai-time windows, log rows, stand-in rows, fast clients."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from difyops_dagster.dify.client import DifyAppClient
from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.console import DifyConsoleClient
from difyops_dagster.dify.transport import DifyTransport, RateLimiter, TransportOptions
from difyops_dagster.reports.build import ReportWindow

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = ReportWindow("daily", datetime(2026, 11, 3, tzinfo=SHANGHAI), datetime(2026, 11, 4, tzinfo=SHANGHAI))
WEEK = ReportWindow("weekly", datetime(2026, 11, 2, tzinfo=SHANGHAI), datetime(2026, 11, 9, tzinfo=SHANGHAI))


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 11) -> int:
    """A Unix timestamp for a Shanghai wall-clock time in 2026."""
    return int(datetime(2026, month, day, hour, minute, second, tzinfo=SHANGHAI).timestamp())


def make_row(run_id: str, created_at: int, **fields: Any) -> dict[str, Any]:
    row = {
        "run_id": run_id,
        "log_id": f"log-{run_id}",
        "created_at": created_at,
        "finished_at": created_at + 1,
        "status": "succeeded",
        "error": None,
        "version": "2026-11-01 10:00:00",
        "elapsed_time": 1.0,
        "total_tokens": 100,
        "total_steps": 3,
        "exceptions_count": 0,
        "created_from": "service-api",
        "user": "alice",
        "user_kind": "end_user",
        "inputs": None,
        "outputs": None,
        "cost": None,
        "currency": None,
        "nodes": None,
    }
    row.update(fields)
    return row


FAST = TransportOptions(
    connect_timeout_s=2, read_timeout_s=10, max_retries=2, backoff_factor_s=0.01, backoff_max_s=0.05,
    rate_limit_per_second=0,
)  # fmt: skip
CONSOLE_EMAIL = "ops@example.com"
CONSOLE_PASSWORD = "console-password-1!"


def app_client(standin, key: str, version: str = "1.13") -> DifyAppClient:
    transport = DifyTransport(standin.api_url, key, FAST, RateLimiter(0))
    return DifyAppClient(transport, DifyCompat.parse(version))


def console_client(standin, version: str, password: str = CONSOLE_PASSWORD) -> DifyConsoleClient:
    return DifyConsoleClient(
        standin.url, CONSOLE_EMAIL, password, compat=DifyCompat.parse(version), options=FAST, limiter=RateLimiter(0)
    )


def seeded_row(run_id: str, created_at: int, **fields: Any) -> dict[str, Any]:
    """A row for `StandinAdmin.seed_logs` (the stand-in's own field names)."""
    return {"id": run_id, "created_at": created_at, "user": "alice", "total_tokens": 500, "elapsed_time": 2.0,
            "inputs": {"query": f"q {run_id}"}, "outputs": {"answer": f"a {run_id}"}, **fields}  # fmt: skip
