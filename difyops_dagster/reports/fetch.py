"""Read one app's workflow logs for one window from Dify, then enrich the runs (both optional) — no Dagster here.

Every page of `GET /workflows/logs` is read (the client pages to `total`, seed 004 stopped on `has_more` or
after page 1); the window's bounds go to Dify and the half-open `[start, end)` is applied again here, because
Dify's bounds are inclusive. Enrichment is best effort *per run* and reported: a run whose detail or node
executions cannot be read keeps nulls, and the notes say how many and why (seed 004 swallowed these errors and
lost the cost silently). A console login that fails is tried once, not once per run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from difyops_dagster.dify.client import PAGE_SIZE, DifyAppClient
from difyops_dagster.dify.console import DifyConsoleClient
from difyops_dagster.dify.errors import DifyError
from difyops_dagster.reports.rows import in_window, row_from_log, with_node_executions, with_run_detail

CREDENTIAL_STATUSES = (401, 403)
NODE_ROUTE = "GET /console/api/apps/{app_id}/workflow-runs/{run_id}/node-executions"


@dataclass(frozen=True)
class LogFilter:
    keyword: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class EnrichOptions:
    run_details: bool = True
    node_executions: bool = True
    max_runs: int = 5000
    workers: int = 4


@dataclass(frozen=True)
class ConsoleAccess:
    """The console client, or the reason there is none (shown in the report instead of a cost)."""

    client: DifyConsoleClient | None
    missing_reason: str | None = None


@dataclass(frozen=True)
class FetchedLogs:
    rows: list[dict[str, Any]]
    pages: int
    notes: tuple[str, ...]


def fetch_window_rows(
    client: DifyAppClient, start: datetime, end: datetime, log_filter: LogFilter
) -> tuple[list[dict[str, Any]], int]:
    """The window's rows (oldest first) and the number of pages read (`ceil(returned / 100)`, at least 1)."""
    start_ts, end_ts = int(start.timestamp()), int(end.timestamp())
    returned = 0
    rows = []
    for log in client.iter_workflow_logs(
        keyword=log_filter.keyword,
        status=log_filter.status,
        created_after=start.astimezone(UTC),
        created_before=end.astimezone(UTC),
    ):
        returned += 1
        if in_window(log.created_at, start_ts, end_ts):
            rows.append(row_from_log(log))
    rows.reverse()  # Dify lists newest first
    return rows, max(1, math.ceil(returned / PAGE_SIZE))


def _per_run(
    rows: list[dict[str, Any]], call: Callable[[dict[str, Any]], dict[str, Any]], workers: int
) -> tuple[list[dict[str, Any]], list[DifyError]]:
    """Apply `call` to each row in parallel; a row whose call fails stays as it was and its error is kept."""
    errors: list[DifyError] = []

    def guarded(row: dict[str, Any]) -> dict[str, Any]:
        try:
            return call(row)
        except DifyError as exc:
            errors.append(exc)
            return row

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(guarded, rows)), errors


def _failure_note(what: str, errors: list[DifyError], attempted: int) -> str:
    """Names the call (the route, ids left out: one note covers many runs) and the first error's status and code."""
    first = errors[0]
    shown = f"HTTP {first.status}" if first.status is not None else "no response"
    cause = f"{shown}, {first.code}: {first.message}"
    return f"{what} failed for {len(errors)} of {attempted} runs (first: {cause})"


def enrich_rows(
    rows: list[dict[str, Any]],
    client: DifyAppClient,
    console: ConsoleAccess,
    app_id: str | None,
    options: EnrichOptions,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows with run details and node executions where configured and reachable, and notes on what was not."""
    notes: list[str] = []
    if not rows or not (options.run_details or options.node_executions):
        return rows, notes
    head, tail = rows[: options.max_runs], rows[options.max_runs :]
    if tail:
        notes.append(f"enriched the first {len(head)} of {len(rows)} runs (reports.enrich_max_runs)")
    head = [row for row in head if row["run_id"]]
    if options.run_details:
        head, errors = _per_run(
            head, lambda r: with_run_detail(r, client.get_workflow_run(r["run_id"])), options.workers
        )
        if errors:
            notes.append(_failure_note("run details (GET /workflows/run/{id})", errors, len(head)))
    if options.node_executions:
        head = _with_costs(head, console, app_id, options, notes)
    by_id = {row["run_id"]: row for row in head}
    return [by_id.get(row["run_id"], row) for row in rows[: options.max_runs]] + tail, notes


def _with_costs(
    rows: list[dict[str, Any]], console: ConsoleAccess, app_id: str | None, options: EnrichOptions, notes: list[str]
) -> list[dict[str, Any]]:
    if console.client is None:
        notes.append(f"cost unavailable: {console.missing_reason}")
        return rows
    if not app_id:
        notes.append("cost unavailable: reports.apps[].app_id is not set (the console's node route needs the app id)")
        return rows
    client = console.client
    if not client.logged_in:
        try:
            client.login()
        except DifyError as exc:
            notes.append(f"cost unavailable: console {exc}")
            return rows
    enriched, errors = _per_run(
        rows, lambda r: with_node_executions(r, client.node_executions(app_id, r["run_id"])), options.workers
    )
    if errors and any(e.status in CREDENTIAL_STATUSES for e in errors):
        notes.append(f"cost unavailable for {len(errors)} runs: console session rejected ({errors[0].message})")
    elif errors:
        notes.append(_failure_note(f"node executions ({NODE_ROUTE})", errors, len(rows)))
    return enriched


def fetch_app_logs(
    client: DifyAppClient,
    start: datetime,
    end: datetime,
    log_filter: LogFilter,
    console: ConsoleAccess,
    app_id: str | None,
    options: EnrichOptions,
) -> FetchedLogs:
    """Everything one app's report of `[start, end)` needs. Raises `DifyError` only if the log list fails."""
    rows, pages = fetch_window_rows(client, start, end, log_filter)
    rows, notes = enrich_rows(rows, client, console, app_id, options)
    return FetchedLogs(rows, pages, tuple(notes))
