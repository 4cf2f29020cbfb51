"""From workflow-log rows to a report: pure pandas over the rows of one app and one window.

What seed 004's reports carried (runs, distinct users and sessions, runs per session, token output speed,
cost from node executions, a per-user table, the inputs/outputs of each run) plus what they lacked (success
rate, failures grouped by error message, latency p50/p95/max, tokens, runs per app version, the slowest runs,
and a trend over the window: by hour for a day, by day for a week). No I/O and no clock: the window and the
notes about enrichment come in as arguments, so the same rows always give the same report.

Definitions, because the seed's were vague:
- a *user* is the account e-mail or the end user's session id (the `user` string of the API call);
- a *session* is a user's burst of runs with no gap longer than `session_gap_s` (the seed counted every run
  as its own session, which made "runs per session" always 1);
- *success rate* counts `succeeded` and `partial-succeeded`; *failure rate* counts `failed`;
- *token output speed* is total tokens over the elapsed time of the runs that produced tokens;
- *cost* is known only for runs whose node executions were fetched; the report says how many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pandas as pd

from difyops_dagster.reports.rows import COLUMNS

SUCCESS_STATUSES = ("succeeded", "partial-succeeded")
TOP_N = 10


@dataclass(frozen=True)
class ReportWindow:
    """A report's half-open time window `[start, end)`, tz-aware in the report's timezone."""

    kind: Literal["daily", "weekly"]
    start: datetime
    end: datetime

    @property
    def timezone(self) -> str:
        return str(self.start.tzinfo)

    @property
    def label(self) -> str:
        """`2026-11-03` for a day, `2026-11-02_2026-11-08` for a week (both ends are days of the window)."""
        first = self.start.date()
        last = (self.end - timedelta(seconds=1)).date()
        return first.isoformat() if self.kind == "daily" else f"{first.isoformat()}_{last.isoformat()}"

    @property
    def start_ts(self) -> int:
        return int(self.start.timestamp())

    @property
    def end_ts(self) -> int:
        return int(self.end.timestamp())


@dataclass(frozen=True)
class Totals:
    runs: int
    statuses: dict[str, int]
    success_rate: float | None
    failure_rate: float | None
    users: int
    sessions: int
    runs_per_session: float | None
    total_tokens: int
    tokens_per_second: float | None
    latency_p50_s: float | None
    latency_p95_s: float | None
    latency_max_s: float | None
    cost: float | None
    cost_runs: int
    currency: str | None

    @property
    def failed(self) -> int:
        return self.statuses.get("failed", 0)


@dataclass(frozen=True)
class WorkflowReport:
    app: str
    window: ReportWindow
    totals: Totals
    per_user: pd.DataFrame
    failures: pd.DataFrame
    versions: pd.DataFrame
    slowest: pd.DataFrame
    trend: pd.DataFrame
    runs: pd.DataFrame
    notes: tuple[str, ...] = field(default=())


def rows_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows as a frame with every stored column, even for an empty window."""
    frame = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    for column in ("created_at", "total_tokens", "total_steps", "exceptions_count"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0).astype("int64")
    frame["elapsed_time"] = pd.to_numeric(frame["elapsed_time"], errors="coerce").fillna(0.0).astype("float64")
    frame["cost"] = pd.to_numeric(frame["cost"], errors="coerce").astype("float64")
    frame["user"] = frame["user"].fillna("(unknown)").astype(str)
    frame["version"] = frame["version"].fillna("(unknown)").astype(str)
    return frame


def build_report(
    app: str, window: ReportWindow, rows: list[dict[str, Any]], *, session_gap_s: int = 1800, notes=()
) -> WorkflowReport:
    """The report of one app over one window. Rows outside `[start, end)` are an error, not silently dropped."""
    frame = rows_frame(rows)
    outside = frame[(frame["created_at"] < window.start_ts) | (frame["created_at"] >= window.end_ts)]
    if len(outside):
        raise ValueError(f"{len(outside)} row(s) of {app} lie outside the window {window.label}")
    frame = frame.sort_values(["created_at", "run_id"], kind="stable").reset_index(drop=True)
    frame["session"] = _sessions(frame, session_gap_s)
    tz = ZoneInfo(window.timezone)
    return WorkflowReport(
        app=app,
        window=window,
        totals=_totals(frame),
        per_user=_per_user(frame, tz),
        failures=_failures(frame, tz),
        versions=_versions(frame),
        slowest=_slowest(frame, tz),
        trend=_trend(frame, window),
        runs=_runs(frame, tz),
        notes=tuple(notes),
    )


def _sessions(frame: pd.DataFrame, gap_s: int) -> pd.Series:
    """A session number per row: a user's runs split wherever two consecutive runs are more than `gap_s` apart."""
    if frame.empty:
        return pd.Series([], dtype="int64")
    ordered = frame.sort_values(["user", "created_at"], kind="stable")
    gaps = ordered.groupby("user", sort=False)["created_at"].diff()
    starts = gaps.isna() | (gaps > gap_s)
    return starts.cumsum().reindex(frame.index).astype("int64")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _quantile(series: pd.Series, q: float) -> float | None:
    return round(float(series.quantile(q)), 3) if len(series) else None


def _totals(frame: pd.DataFrame) -> Totals:
    runs = len(frame)
    statuses = {str(k): int(v) for k, v in frame["status"].value_counts().sort_index().items()}
    succeeded = sum(statuses.get(s, 0) for s in SUCCESS_STATUSES)
    sessions = int(frame["session"].nunique()) if runs else 0
    producing = frame[frame["total_tokens"] > 0]
    busy_s = float(producing["elapsed_time"].sum())
    priced = frame[frame["cost"].notna()]
    currencies = sorted({c for c in priced["currency"].dropna().unique()})
    return Totals(
        runs=runs,
        statuses=statuses,
        success_rate=_rate(succeeded, runs),
        failure_rate=_rate(statuses.get("failed", 0), runs),
        users=int(frame["user"].nunique()),
        sessions=sessions,
        runs_per_session=round(runs / sessions, 3) if sessions else None,
        total_tokens=int(frame["total_tokens"].sum()),
        tokens_per_second=round(float(producing["total_tokens"].sum()) / busy_s, 3) if busy_s > 0 else None,
        latency_p50_s=_quantile(frame["elapsed_time"], 0.5),
        latency_p95_s=_quantile(frame["elapsed_time"], 0.95),
        latency_max_s=round(float(frame["elapsed_time"].max()), 3) if runs else None,
        cost=round(float(priced["cost"].sum()), 6) if len(priced) else None,
        cost_runs=len(priced),
        currency=currencies[0] if len(currencies) == 1 else ("mixed" if currencies else None),
    )


def _local(ts: pd.Series, tz: ZoneInfo) -> pd.Series:
    return pd.to_datetime(ts, unit="s", utc=True).dt.tz_convert(tz)


def _iso(ts: pd.Series, tz: ZoneInfo) -> pd.Series:
    return _local(ts, tz).map(lambda t: t.isoformat())


def _per_user(frame: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
    columns = [
        "user",
        "runs",
        "failed",
        "success_rate",
        "sessions",
        "tokens",
        "cost",
        "active_days",
        "first_run",
        "last_run",
    ]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    work = frame.assign(
        ok=frame["status"].isin(SUCCESS_STATUSES),
        is_failed=frame["status"].eq("failed"),
        day=_local(frame["created_at"], tz).dt.date,
    )
    grouped = work.groupby("user", sort=False)
    table = pd.DataFrame(
        {
            "runs": grouped.size(),
            "failed": grouped["is_failed"].sum(),
            "ok": grouped["ok"].sum(),
            "sessions": grouped["session"].nunique(),
            "tokens": grouped["total_tokens"].sum(),
            "cost": grouped["cost"].sum(min_count=1),
            "active_days": grouped["day"].nunique(),
            "first": grouped["created_at"].min(),
            "last": grouped["created_at"].max(),
        }
    ).reset_index()
    table["success_rate"] = (table["ok"] / table["runs"]).round(4)
    table["first_run"] = _iso(table["first"], tz)
    table["last_run"] = _iso(table["last"], tz)
    table = table.sort_values(["runs", "user"], ascending=[False, True], kind="stable")
    return table[columns].reset_index(drop=True)


def _failures(frame: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
    """Failed runs grouped by the first line of their error (Dify appends stack-like detail after it)."""
    columns = ["error", "runs", "share", "last_seen", "example_run_id"]
    failed = frame[frame["status"].eq("failed")]
    if failed.empty:
        return pd.DataFrame(columns=columns)
    message = failed["error"].fillna("(no error message)").astype(str).str.strip().str.split("\n").str[0].str[:300]
    grouped = failed.assign(message=message).groupby("message", sort=False)
    table = pd.DataFrame(
        {"runs": grouped.size(), "last": grouped["created_at"].max(), "example_run_id": grouped["run_id"].last()}
    ).reset_index(names="error")
    table["share"] = (table["runs"] / len(failed)).round(4)
    table["last_seen"] = _iso(table["last"], tz)
    table = table.sort_values(["runs", "error"], ascending=[False, True], kind="stable")
    return table[columns].reset_index(drop=True)


def _versions(frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["version", "runs", "failed", "success_rate", "p50_s", "p95_s", "tokens"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    work = frame.assign(ok=frame["status"].isin(SUCCESS_STATUSES), is_failed=frame["status"].eq("failed"))
    grouped = work.groupby("version", sort=True)
    table = pd.DataFrame(
        {
            "runs": grouped.size(),
            "failed": grouped["is_failed"].sum(),
            "ok": grouped["ok"].sum(),
            "p50_s": grouped["elapsed_time"].quantile(0.5).round(3),
            "p95_s": grouped["elapsed_time"].quantile(0.95).round(3),
            "tokens": grouped["total_tokens"].sum(),
        }
    ).reset_index()
    table["success_rate"] = (table["ok"] / table["runs"]).round(4)
    return table[columns].reset_index(drop=True)


def _slowest(frame: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
    top = frame.sort_values(["elapsed_time", "run_id"], ascending=[False, True], kind="stable").head(TOP_N)
    return pd.DataFrame(
        {
            "run_id": top["run_id"],
            "created_at": _iso(top["created_at"], tz),
            "elapsed_s": top["elapsed_time"].round(3),
            "status": top["status"],
            "user": top["user"],
            "version": top["version"],
        }
    ).reset_index(drop=True)


def _bucket_starts(window: ReportWindow) -> list[datetime]:
    """Hours of a day (23 or 25 across a DST change) or days of a week, as tz-aware local starts."""
    tz = window.start.tzinfo
    if window.kind == "daily":
        count = (window.end_ts - window.start_ts) // 3600
        return [datetime.fromtimestamp(window.start_ts + 3600 * i, tz) for i in range(count)]
    days = (window.end.date() - window.start.date()).days
    return [datetime.combine(window.start.date() + timedelta(days=i), datetime.min.time(), tz) for i in range(days)]


def _trend(frame: pd.DataFrame, window: ReportWindow) -> pd.DataFrame:
    starts = _bucket_starts(window)
    edges = [int(s.timestamp()) for s in starts] + [window.end_ts]
    index = pd.Series(pd.cut(frame["created_at"], bins=edges, right=False, labels=False), index=frame.index)
    fmt = "%H:%M" if window.kind == "daily" else "%Y-%m-%d %a"
    records = []
    for i, start in enumerate(starts):
        part = frame[index == i]
        failed = int(part["status"].eq("failed").sum())
        records.append(
            {
                "bucket": start.strftime(fmt),
                "start": start.isoformat(),
                "runs": len(part),
                "failed": failed,
                "failure_rate": _rate(failed, len(part)),
                "tokens": int(part["total_tokens"].sum()),
                "p95_s": _quantile(part["elapsed_time"], 0.95),
            }
        )
    return pd.DataFrame.from_records(
        records, columns=["bucket", "start", "runs", "failed", "failure_rate", "tokens", "p95_s"]
    )


def _runs(frame: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
    """One line per run, newest first, with its inputs and outputs: the CSV a person filters in a spreadsheet."""
    newest = frame.sort_values(["created_at", "run_id"], ascending=[False, True], kind="stable")
    return pd.DataFrame(
        {
            "run_id": newest["run_id"],
            "created_at": _iso(newest["created_at"], tz),
            "status": newest["status"],
            "error": newest["error"],
            "user": newest["user"],
            "session": newest["session"],
            "version": newest["version"],
            "elapsed_s": newest["elapsed_time"],
            "tokens": newest["total_tokens"],
            "steps": newest["total_steps"],
            "cost": newest["cost"],
            "inputs": newest["inputs"],
            "outputs": newest["outputs"],
            "created_from": newest["created_from"],
        }
    ).reset_index(drop=True)
