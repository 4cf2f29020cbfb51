"""From workflow-log rows to a report: pure pandas over the rows of one app and one window.

What seed 004's reports carried (runs, distinct users and sessions, runs per session, token output speed,
cost from node executions, a per-user table, the inputs/outputs of each run) plus what they lacked (success
rate, failures grouped by error message and failing node, latency mean/p50/p95/p99/max, the prompt/completion
split, runs per app version, the slowest runs, a per-node table, a trend over the window: by hour for a day,
by day for a week, and for a week the comparison with the week before). No I/O and no clock: the window, the
notes about enrichment and the week before's totals come in as arguments, so the same rows always give the
same report. The breakdown tables are in `tables.py`, the node view in `nodes.py`, the comparison in
`compare.py`.

Definitions, because the seed's were vague:
- a *user* is the account e-mail or the end user's session id (the `user` string of the API call);
- a *session* is a user's burst of runs with no gap longer than `session_gap_s` (the seed counted every run
  as its own session, which made "runs per session" always 1);
- *success rate* counts `succeeded` and `partial-succeeded`; *failure rate* counts `failed`;
- *token speed* is completion tokens per second of model time (the elapsed time of the nodes that report model
  usage), over the runs whose node executions were fetched; total tokens are the logs' own, over every run;
- *cost* and the token split are known only for runs whose node executions were fetched; the report says how
  many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pandas as pd

from difyops_dagster.reports import tables
from difyops_dagster.reports.compare import compare_weeks
from difyops_dagster.reports.nodes import node_executions, node_highlights, per_node
from difyops_dagster.reports.rows import COLUMNS
from difyops_dagster.reports.tables import SUCCESS_STATUSES, rate


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
        first, last = self._days()
        return first if self.kind == "daily" else f"{first}_{last}"

    @property
    def display(self) -> str:
        """What a person reads: `2026-11-03` for a day, `2026-11-02 to 2026-11-08` for a week."""
        first, last = self._days()
        return first if self.kind == "daily" else f"{first} to {last}"

    def _days(self) -> tuple[str, str]:
        return self.start.date().isoformat(), (self.end - timedelta(seconds=1)).date().isoformat()

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
    prompt_tokens: int | None
    completion_tokens: int | None
    split_runs: int  # runs whose prompt/completion split is known
    completion_tokens_per_second: float | None
    latency_mean_s: float | None
    latency_p50_s: float | None
    latency_p95_s: float | None
    latency_p99_s: float | None
    latency_max_s: float | None
    cost: float | None
    cost_runs: int
    currency: str | None
    detail_runs: int  # runs whose run detail (inputs, outputs) was fetched
    slowest_node: str | None
    most_failing_node: str | None

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
    nodes: pd.DataFrame
    comparison: pd.DataFrame | None = None  # weekly reports: against the week before, when its days are stored
    notes: tuple[str, ...] = field(default=())


def rows_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows as a frame with every stored column, even for an empty window or rows stored before a column."""
    frame = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    for column in ("created_at", "total_tokens", "total_steps", "exceptions_count"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0).astype("int64")
    for column in ("finished_at", "nodes", "prompt_tokens", "completion_tokens"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Int64")
    frame["elapsed_time"] = pd.to_numeric(frame["elapsed_time"], errors="coerce").fillna(0.0).astype("float64")
    for column in ("cost", "llm_seconds"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame["user"] = frame["user"].fillna("(unknown)").astype(str)
    frame["version"] = frame["version"].fillna("(unknown)").astype(str)
    return frame


def build_report(
    app: str,
    window: ReportWindow,
    rows: list[dict[str, Any]],
    *,
    session_gap_s: int = 1800,
    notes=(),
    week_before: Totals | None = None,
) -> WorkflowReport:
    """The report of one app over one window. Rows outside `[start, end)` are an error, not silently dropped."""
    frame = rows_frame(rows)
    outside = frame[(frame["created_at"] < window.start_ts) | (frame["created_at"] >= window.end_ts)]
    if len(outside):
        raise ValueError(f"{len(outside)} row(s) of {app} lie outside the window {window.label}")
    frame = frame.sort_values(["created_at", "run_id"], kind="stable").reset_index(drop=True)
    frame["session"] = tables.sessions(frame, session_gap_s)
    tz = ZoneInfo(window.timezone)
    nodes = per_node(node_executions(frame))
    totals = _totals(frame, nodes)
    return WorkflowReport(
        app=app,
        window=window,
        totals=totals,
        per_user=tables.per_user(frame, tz),
        failures=tables.failures(frame, tz),
        versions=tables.versions(frame),
        slowest=tables.slowest(frame, tz),
        trend=tables.trend(frame, window),
        runs=tables.runs(frame, tz),
        nodes=nodes,
        comparison=compare_weeks(totals, week_before) if week_before is not None else None,
        notes=tuple(notes),
    )


def _quantile(series: pd.Series, q: float) -> float | None:
    return round(float(series.quantile(q)), 3) if len(series) else None


def _sum(series: pd.Series) -> int | None:
    known = series.dropna()
    return int(known.sum()) if len(known) else None


def _totals(frame: pd.DataFrame, nodes: pd.DataFrame) -> Totals:
    runs = len(frame)
    statuses = {str(k): int(v) for k, v in frame["status"].value_counts().sort_index().items()}
    succeeded = sum(statuses.get(s, 0) for s in SUCCESS_STATUSES)
    sessions = int(frame["session"].nunique()) if runs else 0
    priced = frame[frame["cost"].notna()]
    currencies = sorted({c for c in priced["currency"].dropna().unique()})
    split = frame[frame["completion_tokens"].notna()]
    model_s = float(split["llm_seconds"].sum())
    highlights = node_highlights(nodes)
    elapsed = frame["elapsed_time"]
    return Totals(
        runs=runs,
        statuses=statuses,
        success_rate=rate(succeeded, runs),
        failure_rate=rate(statuses.get("failed", 0), runs),
        users=int(frame["user"].nunique()),
        sessions=sessions,
        runs_per_session=round(runs / sessions, 3) if sessions else None,
        total_tokens=int(frame["total_tokens"].sum()),
        prompt_tokens=_sum(frame["prompt_tokens"]),
        completion_tokens=_sum(frame["completion_tokens"]),
        split_runs=len(split),
        completion_tokens_per_second=round(float(split["completion_tokens"].sum()) / model_s, 3)
        if model_s > 0
        else None,
        latency_mean_s=round(float(elapsed.mean()), 3) if runs else None,
        latency_p50_s=_quantile(elapsed, 0.5),
        latency_p95_s=_quantile(elapsed, 0.95),
        latency_p99_s=_quantile(elapsed, 0.99),
        latency_max_s=round(float(elapsed.max()), 3) if runs else None,
        cost=round(float(priced["cost"].sum()), 10) if len(priced) else None,
        cost_runs=len(priced),
        currency=currencies[0] if len(currencies) == 1 else ("mixed" if currencies else None),
        detail_runs=int(frame["inputs"].notna().sum()),
        slowest_node=highlights.slowest,
        most_failing_node=highlights.most_failing,
    )
