"""The README's first command: the demo brings up the local stack and both sync jobs succeed on sample data (the
blue/green `sync:` over the whole sample bucket, then the named sync `handbook` of `syncs:`, which puts only the
handbook pages in its own dataset), without a word of beta or superseded features; Ctrl-C on it leaves no process of
the demo behind, the code server included.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import pytest
import requests

from dify_standin.demo_seed import DEMO_DATASETS
from dify_standin.processes import free_port
from difyops_dagster_tests.deploy.dagster_processes import wait_for

ROOT = Path(__file__).resolve().parent.parent
HANDBOOK_PAGES = sorted(p.name for p in (ROOT / "examples" / "sample-docs" / "handbook").iterdir())
DEMO = [sys.executable, str(ROOT / "scripts" / "demo.py")]
NOISE = ("BetaWarning", "PreviewWarning", "SupersessionWarning")
MARK = "DIFYOPS_DEMO_TEST_MARK"  # in the demo's environment, so inherited by every process it starts


@pytest.mark.slow
def test_the_demo_runs_both_syncs_on_the_sample_bucket(tmp_path):
    args = ["--no-ui", "--dify-port", str(free_port()), "--s3-port", str(free_port()), "--home", str(tmp_path / "home")]
    demo = subprocess.Popen([*DEMO, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        stdout, stderr = demo.communicate(timeout=900)
    finally:
        if demo.poll() is None:  # timed out: the demo stops what it started on SIGTERM
            demo.terminate()
            demo.communicate(timeout=300)
    assert demo.returncode == 0, stdout[-3000:] + stderr[-3000:]
    assert "uploaded 10 sample files" in stdout
    assert "sync_job succeeded" in stdout
    assert "sync_handbook_job succeeded" in stdout
    assert (tmp_path / "home" / "history" / "runs.db").exists()
    assert [w for w in NOISE if w in stdout + stderr] == [], stderr[-3000:]
    handbook = synced_dataset(tmp_path / "home", dg.AssetKey(["handbook", "synced_dataset"]))
    assert handbook["dataset_id"] == DEMO_DATASETS["kb-handbook"]
    assert (handbook["documents"], handbook["writes_failed"]) == (len(HANDBOOK_PAGES), 0), HANDBOOK_PAGES


def synced_dataset(home: Path, key: dg.AssetKey) -> dict:
    """The metadata of the latest materialization of a sync's `synced_dataset` asset in the demo's instance."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        event = instance.get_latest_materialization_event(key)
        assert event is not None and event.asset_materialization is not None, f"{key.to_user_string()} not synced"
        return {name: value.value for name, value in event.asset_materialization.metadata.items()}


def processes_of(mark: str) -> list[str]:
    """Every live process whose environment carries the mark: whatever the demo started, in any process group."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            if f"{MARK}={mark}".encode() not in (proc / "environ").read_bytes().split(b"\0"):
                continue
            if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{proc.name}: {command[:160]}")
    return found


def a_run_is_going(home: Path) -> bool:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return bool(instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]), limit=1))


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_ctrl_c_on_the_demo_leaves_no_process_of_it(tmp_path):
    mark, ui_port, home = uuid.uuid4().hex, free_port(), tmp_path / "home"
    args = ["--dify-port", str(free_port()), "--s3-port", str(free_port()), "--ui-port", str(ui_port)]
    output = tmp_path / "demo.out"
    with output.open("wb") as out:
        demo = subprocess.Popen(
            [*DEMO, *args, "--home", str(home)],
            env={**os.environ, MARK: mark},
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )

    def ui_answers() -> bool:
        assert demo.poll() is None, output.read_text(errors="replace")[-3000:]
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"http://127.0.0.1:{ui_port}/server_info", timeout=2).ok
        return False

    try:
        wait_for(ui_answers, 900, "the demo's UI")
        # A run the daemon started is going: its worker and step processes run too, besides the code server.
        wait_for(lambda: a_run_is_going(home), 600, "a run started by the demo's daemon", interval=2)
        os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends to its foreground job
        assert demo.wait(300) == 0, output.read_text(errors="replace")[-3000:]
        assert processes_of(mark) == []
        assert "no process of the demo is left" in output.read_text()
    finally:
        for line in processes_of(mark):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line.split(":")[0]), signal.SIGKILL)
