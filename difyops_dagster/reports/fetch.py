"""Read one app's workflow logs for one window from Dify, then enrich the runs (both optional) — no Dagster here.

Every page of `GET /workflows/logs` is read (the client pages to `total`, seed 004 stopped on `has_more` or
after page 1); the window's bounds go to Dify and the half-open `[start, end)` is applied again here, because
Dify's bounds are inclusive. Enrichment is best effort *per run* and reported: a run whose detail or node
executions cannot be read keeps nulls, and the notes say how many and why (seed 004 swallowed these errors and
lost the cost silently). A console login that fails is tried once, not once per run.

Every run of the window is enriched unless `enrich_max_runs` caps it; a cap keeps the newest runs (the ones a
reader looks at first) and says so. Each run's two calls (run detail, then node executions) run as one task on
a pool of `workers` threads: the calls in flight are bounded by the pool, the request rate by the Dify
resource's one rate limiter, which the app client and the console client share. With `workers` at least
rate x latency the limiter, not the round trips, sets the pace (benchmarks/report_enrich.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from difyops_dagster.dify.client import PAGE_SIZE, DifyAppClient
from difyops_dagster.dify.console import DifyConsoleClient, NodeExecution
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
    max_runs: int | None = None  # None: every run of the window
    workers: int = 8


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
    chosen = _newest(rows, options.max_runs)
    if len(chosen) < len(rows):
        notes.append(
            f"enriched the newest {len(chosen):,} of {len(rows):,} runs (reports.enrich_max_runs); the older "
            f"{len(rows) - len(chosen):,} have no inputs, outputs, cost or node figures"
        )
    nodes = _node_reader(console, app_id, notes) if options.node_executions else None
    detail_errors: list[DifyError] = []
    node_errors: list[DifyError] = []

    def enrich(index: int) -> tuple[int, dict[str, Any]]:
        row = rows[index]
        if options.run_details:
            try:
                row = with_run_detail(row, client.get_workflow_run(row["run_id"]))
            except DifyError as exc:
                detail_errors.append(exc)
        if nodes is not None:
            try:
                row = with_node_executions(row, nodes(row["run_id"]))
            except DifyError as exc:
                node_errors.append(exc)
        return index, row

    enriched = list(rows)
    with ThreadPoolExecutor(max_workers=options.workers) as pool:
        for index, row in pool.map(enrich, chosen):
            enriched[index] = row
    if detail_errors:
        notes.append(_failure_note("run details (GET /workflows/run/{id})", detail_errors, len(chosen)))
    if node_errors and any(e.status in CREDENTIAL_STATUSES for e in node_errors):
        notes.append(
            f"cost unavailable for {len(node_errors)} runs: console session rejected ({node_errors[0].message})"
        )
    elif node_errors:
        notes.append(_failure_note(f"node executions ({NODE_ROUTE})", node_errors, len(chosen)))
    return enriched, notes


def _newest(rows: list[dict[str, Any]], cap: int | None) -> list[int]:
    """Indexes of the rows to enrich: those with a run id, newest first, at most `cap`."""
    order = sorted(
        (i for i, row in enumerate(rows) if row["run_id"]), key=lambda i: rows[i]["created_at"], reverse=True
    )
    return order if cap is None else order[:cap]


def _node_reader(
    console: ConsoleAccess, app_id: str | None, notes: list[str]
) -> Callable[[str], list[NodeExecution]] | None:
    """A function reading one run's node executions, or None (and a note) when the console cannot be used."""
    if console.client is None:
        notes.append(f"cost unavailable: {console.missing_reason}")
        return None
    if not app_id:
        notes.append("cost unavailable: reports.apps[].app_id is not set (the console's node route needs the app id)")
        return None
    client = console.client
    if not client.logged_in:
        try:
            client.login()
        except DifyError as exc:
            notes.append(f"cost unavailable: console {exc}")
            return None
    return lambda run_id: client.node_executions(app_id, run_id)


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
