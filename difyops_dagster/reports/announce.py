"""What a finished report tells people: the notification per app and window, and the asset's UI metadata.

Notifications go out once per report (not for backfill runs unless configured), each carrying the headline
numbers and a link to the Markdown file. A channel that fails is listed in the metadata and logged; it never
fails the report. The subject says what happened in the window ("3 failed runs"): the report itself did not
fail, so it is not flagged as a failure.

A window whose logs could not be read must never look like a quiet day: it gets its own "logs unavailable"
notice, the summary opens with it, no run counts or rates are recorded for it (a plotted 0 would read as
"nothing happened"), and the asset's `every_app_reported` check fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from difyops_dagster.notify.message import Delivery, Notification
from difyops_dagster.reports import markdown
from difyops_dagster.reports.archive import PublishedReport
from difyops_dagster.reports.build import ReportWindow


@dataclass(frozen=True)
class Unavailable:
    """An app whose logs for a window could not be read: reported as such, never as zero runs."""

    app: str
    window: ReportWindow
    reason: str


def report_notification(published: PublishedReport) -> Notification:
    report = published.report
    failed = report.totals.failed
    happened = f": {failed:,} failed run{'s' if failed != 1 else ''}" if failed else ""
    return Notification(
        title=markdown.title(report) + happened, lines=tuple(markdown.headline(report)), link=published.links["md"]
    )


def unavailable_notification(item: Unavailable) -> Notification:
    return Notification(
        title=f"Workflow report {item.app} {item.window.kind} {item.window.display}: logs unavailable",
        lines=(item.reason, "Re-run the workflow_logs partition once Dify answers again."),
        level="error",
    )


def deliver(context: dg.AssetExecutionContext, notices: list[Notification], allowed: bool) -> list[Delivery]:
    """Send every notice on every channel, or none when notifications are off or this is a backfill."""
    notifier = getattr(context.resources, "notifier", None)
    if notifier is None or not allowed:
        return []
    deliveries = []
    for notice in notices:
        for delivery in notifier.send(notice):
            deliveries.append(delivery)
            if delivery.ok:
                context.log.info(f"{notice.title}: {delivery.channel} ok ({delivery.detail})")
            else:
                context.log.warning(f"{notice.title}: {delivery.channel} FAILED ({delivery.detail})")
    return deliveries


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _unavailable_section(unavailable: list[Unavailable]) -> str:
    lines = [f"- **{u.app} {u.window.display}**: {u.reason}" for u in unavailable]
    return "\n".join(
        [
            "## Logs unavailable",
            "",
            "Not a quiet day: Dify did not answer for these, so nothing is counted.",
            "",
            *lines,
        ]
    )


def report_metadata(
    published: list[PublishedReport],
    unavailable: list[Unavailable],
    deliveries: list[Delivery],
    notify_state: str,
    deleted: list[str],
) -> dict[str, dg.MetadataValue]:
    """One window: the full Markdown of each app with its chart. Several windows (a ranged backfill): a table."""
    runs = sum(p.report.totals.runs for p in published)
    failed = sum(p.report.totals.failed for p in published)
    windows = {p.report.window.label for p in published} | {u.window.label for u in unavailable}
    if len(windows) == 1:
        summary = "\n\n---\n\n".join(p.markdown for p in published)
    else:
        lines = ["| window | app | runs | failed | success rate | p95 s | report |", "|---|---|---|---|---|---|---|"]
        for p in published:
            t = p.report.totals
            lines.append(
                f"| {p.report.window.display} | {p.report.app} | {t.runs:,} | {t.failed:,} | {_pct(t.success_rate)} | "
                f"{t.latency_p95_s if t.latency_p95_s is not None else 'n/a'} | {p.links['md']} |"
            )
        summary = "\n".join(lines)
    if unavailable:
        summary = _unavailable_section(unavailable) + ("\n\n---\n\n" + summary if published else "")
    files = ["| window | app | format | file |", "|---|---|---|---|"]
    files += [
        f"| {p.report.window.display} | {p.report.app} | {fmt} | {link} |"
        for p in published
        for fmt, link in p.links.items()
    ]
    sent = ["| channel | delivered | detail |", "|---|---|---|"]
    sent += [f"| {d.channel} | {'yes' if d.ok else 'NO'} | {d.detail} |" for d in deliveries]
    metadata: dict[str, dg.MetadataValue] = {
        "summary": dg.MetadataValue.md(summary or "_no reports_"),
        "files": dg.MetadataValue.md("\n".join(files)),
        "apps_unavailable": dg.MetadataValue.int(len(unavailable)),
        "notifications": dg.MetadataValue.md(notify_state + ("\n\n" + "\n".join(sent) if deliveries else "")),
        "notifications_failed": dg.MetadataValue.int(sum(not d.ok for d in deliveries)),
        "retention_deleted": dg.MetadataValue.int(len(deleted)),
    }
    if published:  # counts only for what was read: an unavailable window records none, not zero
        metadata["runs"] = dg.MetadataValue.int(runs)
        metadata["failed"] = dg.MetadataValue.int(failed)
        if runs:
            metadata["failure_rate"] = dg.MetadataValue.float(round(failed / runs, 4))
    if len(windows) == 1:
        for p in published:
            metadata[f"chart_{p.report.app}"] = dg.MetadataValue.path(p.locations["png"])
    return metadata
