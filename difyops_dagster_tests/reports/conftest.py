"""Helpers for the report tests: literal log rows, a Shanghai-time day and week, and a running stand-in app."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

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
