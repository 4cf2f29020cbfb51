"""The command line runs the same assets: `dg launch --assets` with DIFYOPS_CONFIG pointing at a settings file
records the outputs and status in the instance, and interrupting that process (what terminating a run does to its
worker) reaches the step in its own process through the multiprocess executor and stops the Dify task.

`dagster asset materialize`, which CI pipelines written before `dg` still call, does the same; Dagster 1.13 prints a
SupersessionWarning for it (its own notice, pointing at `dg launch`), and `dg launch` prints none.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml

from difyops_dagster_tests.workflows.conftest import ENV

BIN = Path(sys.executable).parent


def cli_env(workflow_apps: dict, tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "difyops.yaml"
    config.write_text(yaml.safe_dump(workflow_apps))
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return {**os.environ, **ENV, "DIFYOPS_CONFIG": str(config), "DAGSTER_HOME": str(home)}


def materialize_command(app: str, inputs: dict, cli: str = "dg") -> list[str]:
    asset = f"workflow_run_{app}"
    config = json.dumps({"ops": {asset: {"config": {"inputs": inputs}}}})
    if cli == "dg":
        return [str(BIN / "dg"), "launch", "--assets", asset, "-m", "difyops_dagster.definitions",
                "--config-json", config]  # fmt: skip
    return [str(BIN / "dagster"), "asset", "materialize", "-m", "difyops_dagster.definitions", "--select", asset,
            "--config-json", config]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("cli", ["dg", "dagster"])
def test_the_cli_materializes_an_app_and_records_its_outputs(workflow_apps, standin, tmp_path, cli):
    env = cli_env(workflow_apps, tmp_path)
    done = subprocess.run(
        materialize_command("summarize", {"text": "from the shell"}, cli),
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    warnings = {w for w in ("BetaWarning", "PreviewWarning", "SupersessionWarning") if w in done.stderr + done.stdout}
    assert warnings == (set() if cli == "dg" else {"SupersessionWarning"}), done.stderr[-3000:]
    (run,) = standin.admin.state()["runs"]
    assert run["status"] == "succeeded"
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("workflow_run_summarize"))
        metadata = event.asset_materialization.metadata
    assert metadata["status"].value == "succeeded"
    assert metadata["workflow_run_id"].value == run["id"]
    assert metadata["outputs_json"].value == {"summary": "Summary (short) of from the shell"}


@pytest.mark.slow
def test_interrupting_the_cli_run_stops_the_dify_task(workflow_apps, standin, tmp_path):
    worker = subprocess.Popen(
        materialize_command("slow", {"text": "long"}),
        env=cli_env(workflow_apps, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not standin.admin.state()["runs"]:
            assert worker.poll() is None, worker.stderr.read()[-3000:]
            time.sleep(0.2)
        worker.send_signal(signal.SIGINT)
        worker.wait(120)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
    assert worker.returncode != 0
    (run,) = standin.admin.state()["runs"]
    assert run["status"] == "stopped", worker.stderr.read()[-3000:]
