"""Reports and a workflow run through the UI in a real browser, on the same demo stack as test_browser.py.

Reports: a backfill of the last closed Monday-to-Sunday week, launched with the `reports` group's "Materialize
all" button and the partition selection dialog, succeeds for `workflow_logs`, `workflow_report_daily` (seven days)
and `workflow_report_weekly` (one week); one day's partition page then shows that day's own numbers, its Markdown
summary (in the "Show Markdown" dialog, with the chart drawn inline) and its chart file, and the CSV, Markdown,
JSON and PNG files of every day and of the week are in the demo's local artifact store.

Workflow run: the Materialize button of `workflow_run_<demo app>` starts a run at once (no config needed); it
succeeds and the asset's event of that run shows the status and the outputs of the Dify run.
Screenshots: var/screenshots/reports-backfill.png, report-daily.png, workflow-run.png.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from difyops_dagster.reports.partitions import days_of, report_window, weekly_partitions
from difyops_dagster_tests.ui.stack import (
    SHOTS,
    chromium_page,
    demo_settings,
    failures,
    latest_metadata,
    settle,
    skip_community_modal,
    ui_launched_runs,
    wait_finished,
    wait_for,
    wait_text,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1800)]
REPORT_ASSETS = ["workflow_logs", "workflow_report_daily", "workflow_report_weekly"]
FORMATS = ("csv", "md", "json", "png")
# A backfill's final states (BulkActionStatus values; the class is not in dagster's public API).
FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def test_a_ui_backfill_publishes_the_reports_and_a_ui_workflow_run_shows_its_outputs(demo_stack, demo_instance):
    url, home, env = demo_stack
    instance = demo_instance
    settings = demo_settings(env)
    assert settings.reports is not None and settings.workflows is not None
    assert settings.storage.kind == "local", "the demo's reports are expected in its local artifact store"
    artifacts = home.parent / settings.storage.local_dir / settings.reports.storage_prefix
    # The last closed week: the stand-in's demo seed holds a month of log rows up to now, so every day has some.
    week = weekly_partitions(settings.reports).get_last_partition_key()
    assert week is not None, "no closed week since the demo's start_date"
    days = days_of(report_window(weekly_partitions(settings.reports), week, "weekly"))
    day = days[2]
    report_app = settings.reports.apps[0].name
    workflow = settings.workflows.apps[0]
    workflow_asset = f"workflow_run_{workflow.name}"
    with chromium_page("failed-reports-and-workflow-run.png") as page:
        # The backfill: every asset of the group, the week's days picked in the partition selection dialog.
        page.goto(f"{url}/locations/difyops_dagster/asset-groups/reports", wait_until="load")
        skip_community_modal(page)
        for asset in REPORT_ASSETS:
            wait_text(page, asset)
        settle(page)
        page.get_by_role("button", name="Materialize all").first.click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("Partition selection").first.wait_for()
        selection = dialog.get_by_role("textbox").first
        selection.fill(f"[{days[0]}...{days[-1]}]")
        selection.press("Enter")
        dialog.get_by_role("button", name="Launch backfill").click()
        (backfill,) = wait_for(lambda: instance.get_backfills(), "the backfill launched from the UI")
        assert backfill.tags.get("dagster/from_ui") == "true"

        # The workflow run, while the backfill's runs go: the asset page's Materialize button launches it at once.
        page.goto(f"{url}/assets/{workflow_asset}", wait_until="load")
        wait_text(page, workflow_asset)
        before = {run.run_id for run in instance.get_runs()}
        page.get_by_role("button", name="Materialize").first.click()
        # While active_colour (upstream, the sync's) has no materialization yet the UI asks first: confirm.
        confirm = page.get_by_role("dialog").get_by_role("button", name="Confirm")

        def launched() -> list[dg.DagsterRun]:
            if confirm.count() and confirm.first.is_visible():
                confirm.first.click()
            wanted = {dg.AssetKey(workflow_asset)}
            return [r for r in ui_launched_runs(instance, before) if set(r.asset_selection or ()) == wanted]

        (run,) = wait_for(launched, f"the run of {workflow_asset} launched from the UI")
        finished = wait_finished(instance, run.run_id, f"the UI's run of {workflow_asset}")
        assert finished.status == dg.DagsterRunStatus.SUCCESS, failures(instance, run.run_id)
        metadata = latest_metadata(instance, workflow_asset, run.run_id)
        assert metadata["status"] == "succeeded"
        assert metadata["outputs_json"] == {"summary": f"Summary of: {workflow.inputs['text']}"}
        (record,) = [
            r
            for r in instance.fetch_materializations(dg.AssetKey(workflow_asset), limit=50).records
            if r.run_id == run.run_id
        ]
        # The Events tab on this run's event (runs of the app by a schedule or a sensor may be newer).
        page.goto(f"{url}/assets/{workflow_asset}?view=events&time={int(record.timestamp * 1000)}", wait_until="load")
        wait_text(page, f"Materialized in run {run.run_id[:8]}")
        for text in (
            "status",
            "succeeded",
            "outputs",
            metadata["workflow_run_id"],
            metadata["outputs_json"]["summary"],
        ):
            wait_text(page, text)
        settle(page)
        page.screenshot(path=str(SHOTS / "workflow-run.png"), full_page=True)

        # The backfill's runs: one for the seven days of workflow_logs and the daily report, one for the week.
        done = wait_for(
            lambda: (b := instance.get_backfill(backfill.backfill_id)).status.value in FINISHED and b,
            "the backfill to finish",
        )
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id}))
        assert runs and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs), "\n".join(
            failures(instance, r.run_id) for r in runs
        )
        assert done.status.value == "COMPLETED_SUCCESS", done.status
        page.goto(f"{url}/runs/b/{backfill.backfill_id}", wait_until="load")
        wait_text(page, "Succeeded")
        for asset in REPORT_ASSETS:
            wait_text(page, asset)
        settle(page)
        page.screenshot(path=str(SHOTS / "reports-backfill.png"), full_page=True)

        # The files: CSV, Markdown, JSON and PNG for every day and for the week.
        for kind, labels in (("daily", days), ("weekly", [f"{days[0]}_{days[-1]}"])):
            for label in labels:
                for fmt in FORMATS:
                    path = artifacts / kind / report_app / f"{report_app}_{kind}_{label}.{fmt}"
                    assert path.is_file() and path.stat().st_size, path
        chart = artifacts / "daily" / report_app / f"{report_app}_daily_{day}.png"
        assert chart.read_bytes().startswith(b"\x89PNG")
        day_report = json.loads(chart.with_suffix(".json").read_text())["summary"]
        week_report = json.loads(
            (artifacts / "weekly" / report_app / f"{report_app}_weekly_{days[0]}_{days[-1]}.json").read_text()
        )["summary"]
        assert 0 < day_report["totals"]["runs"] < week_report["totals"]["runs"]

        # One day's partition: its own numbers (not the whole range's), its chart file, its Markdown with the chart.
        (daily_run,) = [r for r in runs if dg.AssetKey("workflow_report_daily") in (r.asset_selection or ())]
        day_metadata = latest_metadata(instance, "workflow_report_daily", daily_run.run_id, partition=day)
        assert day_metadata["runs"] == day_report["totals"]["runs"]
        chart_shown = day_metadata[f"chart_{report_app}"]
        assert Path(chart_shown).resolve() == chart.resolve()
        page.goto(f"{url}/assets/workflow_report_daily?view=partitions&partition={day}", wait_until="load")
        wait_text(page, f"chart_{report_app}")
        wait_text(page, chart_shown)
        page.get_by_text("[Show Markdown]").first.click()
        markdown = page.get_by_role("dialog")
        markdown.get_by_text(f"Workflow report {report_app} daily {day}").first.wait_for()
        image = markdown.get_by_role("img", name="runs and failure rate")
        image.wait_for()
        image.scroll_into_view_if_needed()
        page.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=image.element_handle())
        settle(page)
        page.screenshot(path=str(SHOTS / "report-daily.png"))
