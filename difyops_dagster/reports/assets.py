"""The report assets: `workflow_logs` (daily), `workflow_report_daily` (daily), `workflow_report_weekly` (weekly).

Each asset reads its partition's own window. All three take ranged backfills in one run
(`BackfillPolicy.single_run()`, so `--partition-range` works from the CLI) and loop over the partition keys.
`workflow_logs` stores rows per app and day; one app that Dify refuses is recorded as unavailable, the others
proceed, and the `every_app_fetched` check fails so the UI shows it. The reports never fetch: they read the
stored days, so a weekly report is exactly the sum of its seven days.
"""

import warnings
from datetime import UTC, datetime

import dagster as dg

from difyops_dagster.dify.errors import DifyError
from difyops_dagster.reports.announce import (
    Unavailable,
    deliver,
    report_metadata,
    report_notification,
    unavailable_notification,
)
from difyops_dagster.reports.archive import DayStatus, apply_retention, load_day, publish_report, save_day
from difyops_dagster.reports.build import ReportWindow, build_report
from difyops_dagster.reports.config import ReportsSettings
from difyops_dagster.reports.fetch import EnrichOptions, fetch_app_logs
from difyops_dagster.reports.partitions import days_of, report_window

GROUP = "reports"
RESOURCES = {"dify", "artifacts", "report_sources"}


def build_report_assets(
    reports: ReportsSettings,
    daily: dg.DailyPartitionsDefinition,
    weekly: dg.WeeklyPartitionsDefinition,
    with_notifier: bool,
) -> list[dg.AssetsDefinition]:
    # `backfill_policy=BackfillPolicy.single_run()` is on purpose: a ranged backfill (the UI's, or `dg launch
    # --partition-range`) is one run over `context.partition_keys`, not one run per day. Dagster 1.13 marks that
    # parameter of `@asset` beta and warns each time the code location loads (code server, every run worker and
    # step process: a dozen times per run); exactly that warning is silenced here, any other beta use still warns.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"Parameter `backfill_policy` of function `asset`", category=dg.BetaWarning
        )
        return _report_assets(reports, daily, weekly, with_notifier)


def _report_assets(
    reports: ReportsSettings,
    daily: dg.DailyPartitionsDefinition,
    weekly: dg.WeeklyPartitionsDefinition,
    with_notifier: bool,
) -> list[dg.AssetsDefinition]:
    prefix = reports.storage_prefix
    options = EnrichOptions(
        run_details=reports.run_details,
        node_executions=reports.node_executions,
        max_runs=reports.enrich_max_runs,
        workers=reports.enrich_workers,
    )

    @dg.asset(
        name="workflow_logs",
        group_name=GROUP,
        kinds={"dify", "json"},
        partitions_def=daily,
        backfill_policy=dg.BackfillPolicy.single_run(),
        retry_policy=dg.RetryPolicy(
            max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
        ),
        required_resource_keys=RESOURCES,
        check_specs=[dg.AssetCheckSpec("every_app_fetched", asset="workflow_logs")],
        description="Every workflow-log row of each configured app for the day (every page of GET "
        "/workflows/logs), enriched with run details and node-execution cost where configured. "
        "Stored as JSON lines per app and day.",
    )
    def workflow_logs(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        table, failures = _fetch_days(context, daily, prefix, options)
        columns = [("day", "string"), ("app", "string"), ("status", "string"), ("rows", "int"), ("pages", "int")]
        columns.append(("notes", "string"))
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(r["rows"] for r in table),
                "fetches": dg.MetadataValue.table(
                    [dg.TableRecord(r) for r in table],
                    schema=dg.TableSchema(columns=[dg.TableColumn(n, t) for n, t in columns]),
                ),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="every_app_fetched",
                    passed=not failures,
                    metadata={"unavailable": dg.MetadataValue.md("\n".join(f"- {f}" for f in failures) or "none")},
                )
            ],
        )

    @dg.asset(
        name="workflow_report_daily",
        group_name=GROUP,
        kinds={"pandas", "markdown"},
        partitions_def=daily,
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[dg.AssetDep("workflow_logs")],
        required_resource_keys=RESOURCES | ({"notifier"} if with_notifier else set()),
        description="The day's report per app: runs, success rate, failures by error, latency p50/p95/max, "
        "tokens, cost, users and sessions, versions, slowest runs, hourly trend. CSV, Markdown, JSON, PNG.",
    )
    def workflow_report_daily(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        windows = [(report_window(daily, key, "daily"), [key]) for key in context.partition_keys]
        return _publish(context, reports, windows)

    @dg.asset(
        name="workflow_report_weekly",
        group_name=GROUP,
        kinds={"pandas", "markdown"},
        partitions_def=weekly,
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[dg.AssetDep("workflow_logs", partition_mapping=dg.TimeWindowPartitionMapping())],
        required_resource_keys=RESOURCES | ({"notifier"} if with_notifier else set()),
        description="The week's report per app (Monday to Sunday), built from the seven stored days, "
        "with the day-by-day trend. CSV, Markdown, JSON, PNG.",
    )
    def workflow_report_weekly(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        windows = []
        for key in context.partition_keys:
            window = report_window(weekly, key, "weekly")
            windows.append((window, days_of(window)))
        return _publish(context, reports, windows)

    return [workflow_logs, workflow_report_daily, workflow_report_weekly]


def _fetch_days(
    context: dg.AssetExecutionContext, daily: dg.DailyPartitionsDefinition, prefix: str, options: EnrichOptions
) -> tuple[list[dict], list[str]]:
    """Fetch and store every (day, app) of the run; an app Dify refuses is recorded, the others proceed."""
    store = context.resources.artifacts.get_store()
    sources = context.resources.report_sources
    dify = context.resources.dify
    console = sources.console(dify)
    table, failures = [], []
    try:
        for key in context.partition_keys:
            window = report_window(daily, key, "daily")
            for app in sources.apps:
                now = datetime.now(UTC).isoformat()
                client = dify.app_client(app.api_key)
                try:
                    fetched = fetch_app_logs(
                        client, window.start, window.end, app.log_filter(), console, app.app_id, options
                    )
                except DifyError as exc:
                    context.log.warning(f"{app.name} {key}: logs unavailable: {exc}")
                    save_day(store, prefix, app.name, key, None, DayStatus(False, 0, 0, (), str(exc), now))
                    failures.append(f"{app.name} {key}: {exc}")
                    table.append(
                        {"day": key, "app": app.name, "status": "unavailable", "rows": 0, "pages": 0, "notes": str(exc)}
                    )
                    continue
                finally:
                    client.transport.close()
                status = DayStatus(True, len(fetched.rows), fetched.pages, fetched.notes, None, now)
                save_day(store, prefix, app.name, key, fetched.rows, status)
                table.append(
                    {
                        "day": key,
                        "app": app.name,
                        "status": "ok",
                        "rows": len(fetched.rows),
                        "pages": fetched.pages,
                        "notes": "; ".join(fetched.notes),
                    }
                )
    finally:
        if console.client is not None:
            console.client.close()
    return table, failures


def _publish(
    context: dg.AssetExecutionContext, reports: ReportsSettings, windows: list[tuple[ReportWindow, list[str]]]
) -> dg.MaterializeResult:
    """Build, store and announce one report per app and window from the stored days."""
    store = context.resources.artifacts.get_store()
    apps = [app.name for app in context.resources.report_sources.apps]
    prefix = reports.storage_prefix
    loaded = {(app, day): load_day(store, prefix, app, day) for _, days in windows for day in days for app in apps}
    missing = sorted({f"{day} ({app})" for (app, day), logs in loaded.items() if logs is None})
    if missing:
        raise dg.Failure(
            f"workflow_logs has not been materialized for {', '.join(missing)}; "
            "materialize those workflow_logs partitions first (a backfill of both assets orders them)."
        )
    published, unavailable, notices = [], [], []
    for window, days in windows:
        for app in apps:
            present = [loaded[(app, d)] for d in days]
            down = [(d, logs.status.error) for d, logs in zip(days, present, strict=True) if not logs.status.ok]
            if len(down) == len(days):
                item = Unavailable(app, window.kind, window.label, f"logs unavailable: {down[0][1]}")
                unavailable.append(item)
                notices.append(unavailable_notification(item))
                continue
            notes = [f"INCOMPLETE: no logs for {d} ({error})" for d, error in down]
            notes += list(dict.fromkeys(note for logs in present for note in logs.status.notes))
            rows = [row for logs in present for row in logs.rows]
            report = build_report(app, window, rows, session_gap_s=reports.session_gap_minutes * 60, notes=notes)
            item = publish_report(store, prefix, report, reports.link_base_url)
            published.append(item)
            notices.append(report_notification(item))
    backfill = "dagster/backfill" in context.run.tags
    allowed = reports.notify_backfills or not backfill
    deliveries = deliver(context, notices, allowed)
    state = "sent" if deliveries else ("skipped: backfill run" if not allowed else "no channel configured")
    deleted = apply_retention(store, prefix, now=datetime.now(UTC), retention_days=reports.retention_days)
    if deleted:
        context.log.info(f"retention: deleted {len(deleted)} file(s) older than {reports.retention_days} days")
    if len(windows) > 1:
        # A ranged run (a backfill): each partition's own event shows its window's report, numbers and chart; without
        # this every partition would show the range's table and totals as its own.
        for key, (window, _) in zip(context.partition_keys, windows, strict=True):
            own = [p for p in published if p.report.window.label == window.label]
            down = [u for u in unavailable if u.label == window.label]
            context.add_asset_metadata(report_metadata(own, down, deliveries, state, deleted), partition_key=key)
    return dg.MaterializeResult(metadata=report_metadata(published, unavailable, deliveries, state, deleted))
