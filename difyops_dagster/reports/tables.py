"""The breakdown tables of a report: per user, per error, per app version, the slowest runs, the trend, the runs.

Pure pandas over the sorted frame `build.build_report` prepares (one line per run, `session` numbered). Each
breakdown counts failed, partially succeeded and stopped runs beside the total, so a status that is neither a
success nor a failure is visible where it happened, not only in the day's status counts. Times are shown in the
report's timezone; on a day that repeats or skips an hour (a DST change) the hour labels carry their UTC
offset, so the two 01:00 hours of a 25-hour day read apart.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pandas as pd

if TYPE_CHECKING:
    from difyops_dagster.reports.build import ReportWindow

SUCCESS_STATUSES = ("succeeded", "partial-succeeded")
TOP_N = 10
DAY_S = 86400


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def sessions(frame: pd.DataFrame, gap_s: int) -> pd.Series:
    """A session number per row: a user's runs split wherever two consecutive runs are more than `gap_s` apart."""
    if frame.empty:
        return pd.Series([], dtype="int64")
    ordered = frame.sort_values(["user", "created_at"], kind="stable")
    gaps = ordered.groupby("user", sort=False)["created_at"].diff()
    starts = gaps.isna() | (gaps > gap_s)
    return starts.cumsum().reindex(frame.index).astype("int64")


def _local(ts: pd.Series, tz: ZoneInfo) -> pd.Series:
    return pd.to_datetime(ts, unit="s", utc=True).dt.tz_convert(tz)


def _iso(ts: pd.Series, tz: ZoneInfo) -> pd.Series:
    """ISO-8601 local times; a missing time (a run still going has no `finished_at`) stays missing."""
    known = ts.dropna()
    return _local(known.astype("int64"), tz).map(lambda t: t.isoformat()).reindex(ts.index)


def _with_status_flags(frame: pd.DataFrame) -> pd.DataFrame:
    status = frame["status"]
    return frame.assign(
        ok=status.isin(SUCCESS_STATUSES),
        is_failed=status.eq("failed"),
        is_partial=status.eq("partial-succeeded"),
        is_stopped=status.eq("stopped"),
    )


def _status_columns(grouped) -> dict[str, pd.Series]:
    return {
        "runs": grouped.size(),
        "failed": grouped["is_failed"].sum(),
        "partial": grouped["is_partial"].sum(),
        "stopped": grouped["is_stopped"].sum(),
        "ok": grouped["ok"].sum(),
    }


def per_user(frame: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
    columns = ["user", "runs", "failed", "partial", "stopped", "success_rate", "sessions", "tokens", "cost",
               "active_days", "first_run", "last_run"]  # fmt: skip
    if frame.empty:
        return pd.DataFrame(columns=columns)
    work = _with_status_flags(frame).assign(day=_local(frame["created_at"], tz).dt.date)
    grouped = work.groupby("user", sort=False)
    table = pd.DataFrame(
        {
            **_status_columns(grouped),
            "sessions": grouped["session"].nunique(),
            "tokens": grouped["total_tokens"].sum(),
            "cost": grouped["cost"].sum(min_count=1).round(10),  # float sums carry noise past the 16th digit
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


def failures(frame: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
    """Failed runs grouped by the first line of their error (Dify appends stack-like detail after it), with the
    node that failed most often for that error (from the node executions, where fetched)."""
    columns = ["error", "node", "runs", "share", "last_seen", "example_run_id"]
    failed = frame[frame["status"].eq("failed")]
    if failed.empty:
        return pd.DataFrame(columns=columns)
    message = failed["error"].fillna("(no error message)").astype(str).str.strip().str.split("\n").str[0].str[:300]
    grouped = failed.assign(message=message).groupby("message", sort=False)
    table = pd.DataFrame(
        {
            "runs": grouped.size(),
            "last": grouped["created_at"].max(),
            "example_run_id": grouped["run_id"].last(),
            "node": grouped["failing_node"].agg(_most_common),
        }
    ).reset_index(names="error")
    table["share"] = (table["runs"] / len(failed)).round(4)
    table["last_seen"] = _iso(table["last"], tz)
    table = table.sort_values(["runs", "error"], ascending=[False, True], kind="stable")
    return table[columns].reset_index(drop=True)


def _most_common(values: pd.Series) -> str | None:
    known = values.dropna()
    return None if known.empty else str(known.value_counts().sort_index().idxmax())


def versions(frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["version", "runs", "failed", "partial", "stopped", "success_rate", "p50_s", "p95_s", "tokens"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    grouped = _with_status_flags(frame).groupby("version", sort=True)
    table = pd.DataFrame(
        {
            **_status_columns(grouped),
            "p50_s": grouped["elapsed_time"].quantile(0.5).round(3),
            "p95_s": grouped["elapsed_time"].quantile(0.95).round(3),
            "tokens": grouped["total_tokens"].sum(),
        }
    ).reset_index()
    table["success_rate"] = (table["ok"] / table["runs"]).round(4)
    return table[columns].reset_index(drop=True)


def slowest(frame: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
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


def bucket_starts(window: ReportWindow) -> list[datetime]:
    """Hours of a day (23 or 25 across a DST change) or days of a week, as tz-aware local starts."""
    tz = window.start.tzinfo
    if window.kind == "daily":
        count = (window.end_ts - window.start_ts) // 3600
        return [datetime.fromtimestamp(window.start_ts + 3600 * i, tz) for i in range(count)]
    days = (window.end.date() - window.start.date()).days
    return [datetime.combine(window.start.date() + timedelta(days=i), datetime.min.time(), tz) for i in range(days)]


def bucket_label(start: datetime, window: ReportWindow) -> str:
    """`09:00`; `01:00 UTC+02:00` on a day that repeats or skips an hour; `2026-11-03 Tue` for a week's day."""
    if window.kind == "weekly":
        return start.strftime("%Y-%m-%d %a")
    if window.end_ts - window.start_ts == DAY_S:
        return start.strftime("%H:%M")
    offset = start.strftime("%z")
    return f"{start:%H:%M} UTC{offset[:3]}:{offset[3:]}"


def trend(frame: pd.DataFrame, window: ReportWindow) -> pd.DataFrame:
    starts = bucket_starts(window)
    edges = [int(s.timestamp()) for s in starts] + [window.end_ts]
    index = pd.Series(pd.cut(frame["created_at"], bins=edges, right=False, labels=False), index=frame.index)
    columns = ["bucket", "start", "runs", "failed", "partial", "stopped", "failure_rate", "tokens", "p95_s"]
    records = []
    for i, start in enumerate(starts):
        part = frame[index == i]
        failed = int(part["status"].eq("failed").sum())
        records.append(
            {
                "bucket": bucket_label(start, window),
                "start": start.isoformat(),
                "runs": len(part),
                "failed": failed,
                "partial": int(part["status"].eq("partial-succeeded").sum()),
                "stopped": int(part["status"].eq("stopped").sum()),
                "failure_rate": rate(failed, len(part)),
                "tokens": int(part["total_tokens"].sum()),
                "p95_s": round(float(part["elapsed_time"].quantile(0.95)), 3) if len(part) else None,
            }
        )
    return pd.DataFrame.from_records(records, columns=columns)


def runs(frame: pd.DataFrame, tz: ZoneInfo) -> pd.DataFrame:
    """One line per run, newest first, with its inputs and outputs: the CSV a person filters in a spreadsheet."""
    newest = frame.sort_values(["created_at", "run_id"], ascending=[False, True], kind="stable")
    return pd.DataFrame(
        {
            "run_id": newest["run_id"],
            "created_at": _iso(newest["created_at"], tz),
            "finished_at": _iso(newest["finished_at"], tz),
            "status": newest["status"],
            "error": newest["error"],
            "failing_node": newest["failing_node"],
            "user": newest["user"],
            "session": newest["session"],
            "version": newest["version"],
            "elapsed_s": newest["elapsed_time"],
            "tokens": newest["total_tokens"],
            "prompt_tokens": newest["prompt_tokens"],
            "completion_tokens": newest["completion_tokens"],
            "steps": newest["total_steps"],
            "nodes": newest["nodes"],
            "exceptions": newest["exceptions_count"],
            "cost": newest["cost"],
            "currency": newest["currency"],
            "inputs": newest["inputs"],
            "outputs": newest["outputs"],
            "created_from": newest["created_from"],
        }
    ).reset_index(drop=True)
