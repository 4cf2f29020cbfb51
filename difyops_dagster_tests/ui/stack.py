"""What the browser tests share: the demo stack under `dg dev` (used by the `demo_stack` fixture in
conftest.py), one headless Chromium page, and helpers for Dagster UI timing and for reading the instance.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import yaml

from dify_standin.processes import DagsterDevProcess
from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import parse_settings
from difyops_dagster_tests.demo_stack import DEMO_CONFIG, ROOT, running_demo_stack

SHOTS = ROOT / "var" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# dg dev and each run's steps start Python processes: seconds on an idle machine, minutes on a loaded one.
WAIT_S = 420


def demo_settings(env: dict[str, str]):
    return parse_settings(yaml.safe_load(DEMO_CONFIG.read_text()), env)


def asset_groups(env: dict[str, str]) -> dict[str, list[str]]:
    """Every asset group of the demo's code location and its assets, from the definitions themselves, named as the
    UI writes them (`handbook / s3_objects` for the key `handbook/s3_objects`)."""
    defs = build_definitions(demo_settings(env))
    groups: dict[str, list[str]] = defaultdict(list)
    for spec in defs.resolve_all_asset_specs():
        groups[spec.group_name].append(" / ".join(spec.key.path))
    return dict(groups)


@contextmanager
def running_demo_ui(tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """The demo's S3, stand-in and `DAGSTER_HOME` (demo_stack.py) under `dg dev` in `tmp_path` (the cwd of its
    runs, so the demo's local artifact store is `tmp_path / var/artifacts`): (UI url, DAGSTER_HOME, env).
    """
    logs = tmp_path / "logs"
    with (
        running_demo_stack(tmp_path / "dagster_home", log_dir=logs, indexing_seconds=0.2) as stack,
        DagsterDevProcess(ROOT / "workspace.yaml", stack.env, tmp_path, log_dir=logs) as dev,
    ):
        yield dev.url, stack.home, stack.env


@contextmanager
def chromium_page(failure_shot: str) -> Iterator:
    """One 1600x1000 page of Debian's headless Chromium, driven by Playwright, waiting up to WAIT_S for anything.

    When the test fails inside, the page as it was is saved to var/screenshots/`failure_shot` for its reader.
    """
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(WAIT_S * 1000)
            try:
                yield page
            except BaseException:
                page.screenshot(path=str(SHOTS / failure_shot), full_page=True)
                raise
        finally:
            browser.close()


def skip_community_modal(page) -> None:
    """A "Join the Dagster community" modal covers the page on a first visit, a moment after it loads."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.first.wait_for(state="visible", timeout=10_000)
    except Exception:  # the modal did not come: nothing to close
        return
    skip.first.click()


def settle(page) -> None:
    """Graph nodes and catalog rows first draw with a "Loading..." row, a collapsed group's box with "(fetching
    statuses)"; both are filled in once the statuses arrive."""
    page.wait_for_function(
        "() => !['Loading...', 'fetching statuses'].some(t => document.body.innerText.includes(t))",
        timeout=WAIT_S * 1000,
    )


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


def wait_for(predicate, what: str, timeout_s: float = WAIT_S):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}")


def wait_finished(instance: dg.DagsterInstance, run_id: str, what: str) -> dg.DagsterRun:
    return wait_for(lambda: (r := instance.get_run_by_id(run_id)) is not None and r.is_finished and r, what)


def failures(instance: dg.DagsterInstance, run_id: str) -> str:
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


def latest_metadata(instance: dg.DagsterInstance, asset: str, run_id: str, partition: str | None = None) -> dict:
    """The metadata values of `asset`'s materialization (of `partition`) in that run; empty when there is none."""
    records = instance.fetch_materializations(dg.AssetKey(asset), limit=100).records
    for record in records:
        if record.run_id == run_id and (partition is None or record.partition_key == partition):
            return {key: value.value for key, value in record.asset_materialization.metadata.items()}
    return {}
