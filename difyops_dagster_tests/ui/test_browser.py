"""The UI in a real browser: `dg dev` on the demo stack (the Dify stand-in with its demo data, moto S3 holding
the sample documents, `config/demo.yaml`, the repository's `dagster.yaml` and `workspace.yaml`), driven through
Debian's headless Chromium by Playwright.

Every asset group of the code location is drawn with all its assets; the bucket sensors' first syncs succeed, of
the blue/green `sync:` and of the named knowledge base `handbook` (`syncs:`, issue 18), and the lineage then draws
the groups `sync` and `sync_handbook` side by side while the catalog lists every asset of both, materialized, under
its group; after one more document lands in the bucket, the sync launched with the UI's own "Materialize all" button
succeeds too and shows only what it did (issue 14): the standby colour's steps ran, the active colour's are
listed as skipped on the run page and keep the materialization of the first sync; the plan table and the active
colour show in the asset pages, the active colour's with the demo chatflow switched to the colour promoted.
Screenshots are written to var/screenshots/ (docs/screenshots/ holds the copies the documentation shows).
"""

from __future__ import annotations

import boto3
import dagster as dg
import pytest

from dify_standin.demo_seed import DEMO_CHATFLOW_ID, DEMO_DATASETS
from difyops_dagster_tests.ui.stack import (
    SHOTS,
    asset_groups,
    chromium_page,
    failures,
    latest_metadata,
    settle,
    skip_community_modal,
    ui_launched_runs,
    wait_finished,
    wait_for,
    wait_text,
)

SYNC_ASSETS = {"s3_objects", "active_colour"}
SENSOR_TAG = {"dagster/sensor_name": "bucket_changed_sensor"}
HANDBOOK_SENSOR_TAG = {"dagster/sensor_name": "bucket_changed_handbook_sensor"}

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1800)]


def test_the_ui_draws_every_group_runs_the_sync_and_shows_plan_and_colour(demo_stack, demo_instance):
    url, _, env = demo_stack
    instance = demo_instance
    groups = asset_groups(env)
    assert {"sync", "workflows", "reports"} <= set(groups)
    with chromium_page("failed-browser.png") as page:
        for number, (group, assets) in enumerate(sorted(groups.items())):
            page.goto(f"{url}/locations/difyops_dagster/asset-groups/{group}", wait_until="load")
            if number == 0:
                skip_community_modal(page)
            wait_text(page, "Materialize")
            settle(page)
            page.screenshot(path=str(SHOTS / f"group-{group}.png"))
            # The lineage shortens long names to fit their boxes ("dify_documen…_blue"): the list shows them whole.
            page.get_by_text("List", exact=True).first.click()
            for asset in assets:
                wait_text(page, asset)

        # The daemon's first tick of the bucket sensor starts a sync at once (the bucket holds documents). Let it
        # finish first: two syncs planned against the same standby dataset at once would race.
        (first,) = wait_for(
            lambda: [r for r in instance.get_runs(dg.RunsFilter(tags=SENSOR_TAG)) if r.is_finished][:1],
            "the sync started by bucket_changed_sensor",
        )
        assert first.status == dg.DagsterRunStatus.SUCCESS, failures(instance, first.run_id)
        (handbook,) = wait_for(
            lambda: [r for r in instance.get_runs(dg.RunsFilter(tags=HANDBOOK_SENSOR_TAG)) if r.is_finished][:1],
            "the sync started by bucket_changed_handbook_sensor",
        )
        assert handbook.status == dg.DagsterRunStatus.SUCCESS, failures(instance, handbook.run_id)
        assert handbook.job_name == "sync_handbook_job"
        served = latest_metadata(instance, "active_colour", first.run_id)["active_colour"]
        standby = "green" if served == "blue" else "blue"
        unsynced = {asset for asset in groups["sync"] if asset.endswith(f"_{standby}")}
        shows_both_sync_groups(page, url, {group: groups[group] for group in ("sync", "sync_handbook")}, unsynced)

        s3 = boto3.client("s3", endpoint_url=env["S3_ENDPOINT_URL"], aws_access_key_id="demo",
                          aws_secret_access_key="demo", region_name="us-east-1")  # fmt: skip
        s3.put_object(Bucket="difyops-demo", Key="docs/added-for-the-ui-run.md", Body=b"# One more\n\nA new note.\n")
        page.goto(f"{url}/locations/difyops_dagster/asset-groups/sync", wait_until="load")
        for asset in SYNC_ASSETS:
            wait_text(page, asset)
        before = {run.run_id for run in instance.get_runs()}
        page.get_by_role("button", name="Materialize all").first.click()
        (run,) = wait_for(lambda: ui_launched_runs(instance, before), "the run launched from the UI")
        finished = wait_finished(instance, run.run_id, "the UI's run")
        assert finished.status == dg.DagsterRunStatus.SUCCESS, failures(instance, run.run_id)
        assert set(run.asset_selection or ()) >= {dg.AssetKey(a) for a in SYNC_ASSETS}
        skipped = {
            record.step_key for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_SKIPPED)
        }
        assert skipped == {f"sync_plan_{served}", f"synced_dataset_{served}"}
        for asset in (f"dify_documents_{served}", f"sync_plan_{served}", f"synced_dataset_{served}"):
            latest = instance.get_latest_materialization_event(dg.AssetKey(asset))
            assert latest is not None and latest.run_id == first.run_id, f"{asset} keeps its real materialization"
        assert latest_metadata(instance, f"synced_dataset_{standby}", run.run_id)["applied"]
        # The run page lists them as skipped: its log filtered to skips (unfiltered, a long log draws only its end).
        page.goto(f"{url}/runs/{run.run_id}?logs=type:STEP_SKIPPED", wait_until="load")
        for step in sorted(skipped):
            wait_text(page, f'Skipped execution of step "{step}"')
        page.goto(f"{url}/runs/{run.run_id}", wait_until="load")
        wait_text(page, "Success")
        settle(page)
        page.screenshot(path=str(SHOTS / "sync-run.png"))
        page.goto(f"{url}/locations/difyops_dagster/asset-groups/sync", wait_until="load")
        settle(page)
        page.screenshot(path=str(SHOTS / "group-sync-after-a-run.png"))

        # The plan that wrote: the standby colour's, with one row per new document.
        written = [
            colour
            for colour in ("blue", "green")
            if latest_metadata(instance, f"sync_plan_{colour}", run.run_id).get("create", 0)
        ]
        assert written, "the UI's sync planned no upload"
        page.goto(f"{url}/assets/sync_plan_{written[0]}", wait_until="load")
        wait_text(page, "new in the source")
        page.get_by_text("new in the source").first.scroll_into_view_if_needed()
        settle(page)
        page.screenshot(path=str(SHOTS / "sync-plan.png"), full_page=True)

        active = latest_metadata(instance, "active_colour", run.run_id)
        assert active["active_dataset_id"] in DEMO_DATASETS.values()
        # The chatflow of sync.apps was switched to the colour just promoted, and the page says so (issue 17).
        (app,) = active["apps"].records
        assert app.data["app"] == f"support-chat ({DEMO_CHATFLOW_ID})" and app.data["result"] == "switched"
        assert app.data["replaced"].endswith(f"→ {standby} ({DEMO_DATASETS[f'kb-{standby}']})")
        page.goto(f"{url}/assets/active_colour", wait_until="load")
        wait_text(page, "active_dataset_id")
        wait_text(page, active["active_dataset_id"])
        wait_text(page, f"apps to {standby}: support-chat ({DEMO_CHATFLOW_ID}): switched")
        settle(page)
        page.screenshot(path=str(SHOTS / "active-colour.png"), full_page=True)


def shows_both_sync_groups(page, url: str, groups: dict[str, list[str]], unsynced: set[str]) -> None:
    """Both syncs side by side: the global lineage draws a box for each group; the catalog lists each group's
    assets under it, every one materialized by its sync but the `unsynced` (the colour left standby)."""
    page.goto(f"{url}/asset-groups", wait_until="load")
    for group in groups:
        # Named in the side bar's list, and on its box once the graph is drawn.
        page.get_by_text(group, exact=True).filter(visible=True).nth(1).wait_for()
    settle(page)
    page.screenshot(path=str(SHOTS / "lineage-sync-groups.png"))
    page.goto(f"{url}/assets", wait_until="load")
    # Each asset's row: the innermost element holding both its checkbox and its group's name.
    rows = {
        (group, asset): page.locator("div", has=page.get_by_test_id(f"checkbox-{asset.replace(' / ', '/')}"))
        .filter(has_text=group)
        .last
        for group, assets in groups.items()
        for asset in assets
    }
    for row in rows.values():
        row.wait_for()
    settle(page)  # the rows draw their status "Loading..." first
    for (group, asset), row in rows.items():
        cells = row.inner_text().splitlines()
        assert group in cells, f"{asset} not listed under {group}: {cells}"
        status = "Never materialized" if asset in unsynced else "Materialized"
        assert any(cell.startswith(status) for cell in cells), f"{asset} not {status}: {cells}"
    page.screenshot(path=str(SHOTS / "catalog-sync-groups.png"))
