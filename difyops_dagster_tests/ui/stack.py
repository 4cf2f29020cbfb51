"""What the browser tests share: the demo stack under `dagster dev` (used by the `demo_stack` fixture in
conftest.py), Chromium's settings, and helpers for Dagster UI timing and for reading the instance.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import requests
import yaml

from dify_standin.demo_seed import DEMO_APP_KEY, DEMO_CONSOLE_PASSWORD
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
# dagster dev and each run's steps start Python processes: seconds on an idle machine, minutes on a loaded one.
WAIT_S = 420


def demo_env(standin: StandinProcess, s3: MotoS3Process) -> dict[str, str]:
    return {
        "DIFYOPS_CONFIG": str(DEMO_CONFIG),
        "DIFY_BASE_URL": standin.api_url,
        "DIFY_DATASET_API_KEY": standin.dataset_key,
        "DIFY_DEMO_APP_KEY": DEMO_APP_KEY,
        "DIFY_CONSOLE_URL": standin.url,
        "DIFY_CONSOLE_PASSWORD": DEMO_CONSOLE_PASSWORD,
        "S3_ENDPOINT_URL": s3.endpoint_url,
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
    }


def demo_settings(env: dict[str, str]):
    return parse_settings(yaml.safe_load(DEMO_CONFIG.read_text()), env)


def asset_groups(env: dict[str, str]) -> dict[str, list[str]]:
    """Every asset group of the demo's code location and its assets, from the definitions themselves."""
    defs = build_definitions(demo_settings(env))
    groups: dict[str, list[str]] = defaultdict(list)
    for spec in defs.resolve_all_asset_specs():
        groups[spec.group_name].append(spec.key.to_user_string())
    return dict(groups)


@contextmanager
def running_demo_stack(tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """moto S3 with the sample documents, the stand-in with `--demo`, and `dagster dev` in `tmp_path` (the cwd
    of its runs, so the demo's local artifact store is `tmp_path / var/artifacts`): (UI url, DAGSTER_HOME, env).
    """
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
