"""The reports' files in the artifact store: a day's rows and fetch status, the rendered reports, retention.

The status file is written after the rows and read before them, so a run killed between the two never leaves
rows that look complete. A fetch that failed leaves a status saying so (and no rows): the report then says
"logs unavailable" instead of reporting zero runs.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from difyops_dagster.reports import markdown, render
from difyops_dagster.reports.build import WorkflowReport
from difyops_dagster.reports.layout import report_key, rows_key, status_key
from difyops_dagster.reports.retention import expired_keys
from difyops_dagster.reports.rows import decode_rows, encode_rows
from difyops_dagster.storage.artifacts import ArtifactStore

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "json": "application/json",
    "png": "image/png",
}


@dataclass(frozen=True)
class DayStatus:
    ok: bool
    rows: int
    pages: int
    notes: tuple[str, ...]
    error: str | None
    fetched_at: str


@dataclass(frozen=True)
class DayLogs:
    status: DayStatus
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class PublishedReport:
    report: WorkflowReport
    locations: dict[str, str]  # format -> where it was written (path or s3:// URI)
    links: dict[str, str]  # format -> what a person opens (link_base_url + key, or the location)
    markdown: str  # for the UI: the summary with the chart embedded
    chart_png: bytes


def save_day(
    store: ArtifactStore, prefix: str, app: str, day: str, rows: list[dict[str, Any]] | None, status: DayStatus
) -> None:
    """Rows first, status last. A failed fetch (`rows` None) removes any rows of an earlier run."""
    if rows is None:
        store.delete(rows_key(prefix, app, day))
    else:
        store.put_bytes(rows_key(prefix, app, day), encode_rows(rows), "application/x-ndjson")
    data = json.dumps(asdict(status), ensure_ascii=False, indent=1).encode()
    store.put_bytes(status_key(prefix, app, day), data, "application/json")


def load_day(store: ArtifactStore, prefix: str, app: str, day: str) -> DayLogs | None:
    """The day's rows and status, or None when the day was never fetched."""
    raw = store.get_bytes(status_key(prefix, app, day))
    if raw is None:
        return None
    fields = json.loads(raw)
    status = DayStatus(**{**fields, "notes": tuple(fields.get("notes") or ())})
    if not status.ok:
        return DayLogs(status, [])
    data = store.get_bytes(rows_key(prefix, app, day))
    if data is None:
        raise FileNotFoundError(f"{rows_key(prefix, app, day)} is missing although its status says it was fetched")
    return DayLogs(status, list(decode_rows(data)))


def publish_report(
    store: ArtifactStore, prefix: str, report: WorkflowReport, link_base_url: str | None
) -> PublishedReport:
    """Write CSV, Markdown, JSON and PNG; return where they went and the Markdown the UI shows."""
    chart = render.render_chart(report)
    contents = {
        "csv": render.render_csv(report),
        "md": markdown.render_markdown(report, chart_link=render.file_name(report, "png")).encode(),
        "json": render.render_json(report),
        "png": chart,
    }
    locations, links = {}, {}
    for fmt, data in contents.items():
        key = report_key(prefix, report.window.kind, report.app, render.file_name(report, fmt))
        locations[fmt] = store.put_bytes(key, data, CONTENT_TYPES[fmt])
        links[fmt] = f"{link_base_url.rstrip('/')}/{key}" if link_base_url else locations[fmt]
    inline = "data:image/png;base64," + base64.b64encode(chart).decode()
    return PublishedReport(report, locations, links, markdown.render_markdown(report, chart_link=inline), chart)


def apply_retention(store: ArtifactStore, prefix: str, *, now: datetime, retention_days: int) -> list[str]:
    """Delete the feature's files written more than `retention_days` ago; return their keys."""
    expired = expired_keys(store.list(prefix), now=now, retention_days=retention_days)
    for key in expired:
        store.delete(key)
    return expired
