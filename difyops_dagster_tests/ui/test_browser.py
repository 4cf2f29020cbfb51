"""The UI in a real browser: `dagster dev` on the demo stack (the Dify stand-in with its demo data, moto S3 holding
the sample documents, `config/demo.yaml`, the repository's `dagster.yaml` and `workspace.yaml`), driven through
Debian's headless Chromium by Playwright.

Every asset group of the code location is drawn with all its assets; the bucket sensor's first sync succeeds;
the sync launched next with the UI's own "Materialize all" button succeeds too; the plan table and the active
colour show in the asset pages. Screenshots are written to var/screenshots/ (docs/screenshots/ holds the copies
the documentation shows).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import dagster as dg
import pytest
import requests
import yaml

from dify_standin.demo_seed import DEMO_APP_KEY, DEMO_DATASETS
from dify_standin.processes import MotoS3Process, StandinProcess, free_port
from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import parse_settings

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
DEMO_CONFIG = ROOT / "config" / "demo.yaml"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SYNC_ASSETS = {"s3_objects", "active_colour"}
SENSOR_TAG = {"dagster/sensor_name": "bucket_changed_sensor"}
# dagster dev and each run's steps start Python processes: seconds on an idle machine, minutes on a loaded one.
WAIT_S = 420

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(1800)]


def demo_env(standin: StandinProcess, s3: MotoS3Process) -> dict[str, str]:
    return {
        "DIFYOPS_CONFIG": str(DEMO_CONFIG),
        "DIFY_BASE_URL": standin.api_url,
        "DIFY_DATASET_API_KEY": standin.dataset_key,
        "DIFY_DEMO_APP_KEY": DEMO_APP_KEY,
        "S3_ENDPOINT_URL": s3.endpoint_url,
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
    }


def asset_groups(env: dict[str, str]) -> dict[str, list[str]]:
    """Every asset group of the demo's code location and its assets, from the definitions themselves."""
    defs = build_definitions(parse_settings(yaml.safe_load(DEMO_CONFIG.read_text()), env))
    groups: dict[str, list[str]] = defaultdict(list)
    for spec in defs.resolve_all_asset_specs():
        groups[spec.group_name].append(spec.key.to_user_string())
    return dict(groups)


@pytest.fixture
def demo_stack(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    with (
        MotoS3Process() as s3,
        StandinProcess(indexing_seconds=0.2, extra_args=("--demo", "--etl-type", "Unstructured")) as standin,
    ):
        client = s3.client()
        client.create_bucket(Bucket="difyops-demo")
        docs = ROOT / "examples" / "sample-docs"
        for path in sorted(docs.rglob("*")):
            if path.is_file():
                client.put_object(
                    Bucket="difyops-demo", Key="docs/" + path.relative_to(docs).as_posix(), Body=path.read_bytes()
                )
        env = demo_env(standin, s3)
        port = free_port()
        dev = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster")), "dev", "-w", str(ROOT / "workspace.yaml"),
             "-h", "127.0.0.1", "-p", str(port)],
            env={**os.environ, **env, "DAGSTER_HOME": str(home)},
            cwd=tmp_path,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + WAIT_S
            while time.monotonic() < deadline:
                assert dev.poll() is None, "dagster dev exited"
                try:
                    if requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2).ok:
                        break
                except requests.RequestException:
                    time.sleep(1)
            else:
                raise AssertionError("dagster dev did not answer /server_info")
            yield f"http://127.0.0.1:{port}", home, env
        finally:
            os.killpg(dev.pid, signal.SIGTERM)
            try:
                dev.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(dev.pid, signal.SIGKILL)
                dev.wait(30)


def skip_community_modal(page) -> None:
    """A "Join the Dagster community" modal covers the page on a first visit, a moment after it loads."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.first.wait_for(state="visible", timeout=10_000)
    except Exception:  # the modal did not come: nothing to close
        return
    skip.first.click()


def settle(page) -> None:
    """Graph nodes first draw with a "Loading..." row, filled in once their status arrives."""
    page.wait_for_function("() => !document.body.innerText.includes('Loading...')", timeout=WAIT_S * 1000)


def wait_text(page, text: str, timeout_s: float = WAIT_S) -> None:
    page.get_by_text(text, exact=False).first.wait_for(state="attached", timeout=timeout_s * 1000)


def ui_launched_runs(instance: dg.DagsterInstance, before: set[str]) -> list[dg.DagsterRun]:
    """Runs started by a person: not by a sensor, a schedule or a retry, and not there before the click."""
    return [
        run
        for run in instance.get_runs()
        if run.run_id not in before
        and not {"dagster/sensor_name", "dagster/schedule_name", "dagster/parent_run_id"} & set(run.tags)
    ]


def test_the_ui_draws_every_group_runs_the_sync_and_shows_plan_and_colour(demo_stack):
    from playwright.sync_api import sync_playwright

    url, home, env = demo_stack
    groups = asset_groups(env)
    assert {"sync", "workflows", "reports"} <= set(groups)
    SHOTS.mkdir(parents=True, exist_ok=True)
    instance = dg.DagsterInstance.from_config(str(home))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(WAIT_S * 1000)
        for number, (group, assets) in enumerate(sorted(groups.items())):
            page.goto(f"{url}/locations/difyops_dagster/asset-groups/{group}", wait_until="load")
            if number == 0:
                skip_community_modal(page)
            for asset in assets:
                wait_text(page, asset)
            settle(page)
            page.screenshot(path=str(SHOTS / f"group-{group}.png"))

        # The daemon's first tick of the bucket sensor starts a sync at once (the bucket holds documents). Let it
        # finish first: two syncs planned against the same standby dataset at once would race.
        (first,) = _wait_for(
            lambda: [r for r in instance.get_runs(dg.RunsFilter(tags=SENSOR_TAG)) if r.is_finished][:1],
            "the sync started by bucket_changed_sensor",
        )
        assert first.status == dg.DagsterRunStatus.SUCCESS, _failures(instance, first.run_id)

        page.goto(f"{url}/locations/difyops_dagster/asset-groups/sync", wait_until="load")
        for asset in SYNC_ASSETS:
            wait_text(page, asset)
        before = {run.run_id for run in instance.get_runs()}
        page.get_by_role("button", name="Materialize all").first.click()
        (run,) = _wait_for(lambda: ui_launched_runs(instance, before), "the run launched from the UI")
        finished = _wait_for(
            lambda: (r := instance.get_run_by_id(run.run_id)) is not None and r.is_finished and r, "the UI's run"
        )
        assert finished.status == dg.DagsterRunStatus.SUCCESS, _failures(instance, run.run_id)
        assert set(run.asset_selection or ()) >= {dg.AssetKey(a) for a in SYNC_ASSETS}
        page.goto(f"{url}/runs/{run.run_id}", wait_until="load")
        wait_text(page, "Success")
        settle(page)
        page.screenshot(path=str(SHOTS / "sync-run.png"))

        # The plan that wrote: the standby colour's, with one row per new document.
        written = [
            colour
            for colour in ("blue", "green")
            if _latest_metadata(instance, f"sync_plan_{colour}", run.run_id).get("create", 0)
        ]
        assert written, "the UI's sync planned no upload"
        page.goto(f"{url}/assets/sync_plan_{written[0]}", wait_until="load")
        wait_text(page, "new in the source")
        page.get_by_text("new in the source").first.scroll_into_view_if_needed()
        settle(page)
        page.screenshot(path=str(SHOTS / "sync-plan.png"), full_page=True)

        active = _latest_metadata(instance, "active_colour", run.run_id)
        assert active["active_dataset_id"] in DEMO_DATASETS.values()
        page.goto(f"{url}/assets/active_colour", wait_until="load")
        wait_text(page, "active_dataset_id")
        wait_text(page, active["active_dataset_id"])
        settle(page)
        page.screenshot(path=str(SHOTS / "active-colour.png"), full_page=True)
        browser.close()
    instance.dispose()


def _wait_for(predicate, what: str):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}")


def _failures(instance: dg.DagsterInstance, run_id: str) -> str:
    """The failed steps and checks of a run, for the assertion message."""
    lines = []
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type_value in ("STEP_FAILURE", "RUN_FAILURE"):
            error = getattr(event.event_specific_data, "error", None)
            lines.append(f"{event.event_type_value} {record.step_key}: {error.message if error else event.message}")
        if event.event_type_value == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed:
            lines.append(f"check failed {event.event_specific_data.check_name}: {event.event_specific_data.metadata}")
    return "\n".join(lines)


def _latest_metadata(instance: dg.DagsterInstance, asset: str, run_id: str) -> dict:
    """The metadata values of `asset`'s materialization in that run (empty when the run did not materialize it)."""
    records = instance.fetch_materializations(dg.AssetKey(asset), limit=20).records
    for record in records:
        if record.run_id == run_id:
            return {key: value.value for key, value in record.asset_materialization.metadata.items()}
    return {}
