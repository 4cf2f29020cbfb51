"""A run launched from the command line is announced like any other. `dg launch` executes in-process and
records no code-location origin on the run, which Dagster's default run-status sensor matching relies on; the
sensor watches every code location and keeps this location's own runs, so the failure reaches every configured
channel. Shown the way an operator meets it: `dagster-daemon` running on a DAGSTER_HOME, a failing
`dg launch --assets ...` against the same home, and the real SMTP and webhook receivers."""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
from email import policy
from pathlib import Path

import dagster as dg
import pytest
import yaml

from difyops_dagster_tests.deploy.dagster_processes import DagsterProcess, dagster_command, wait_for
from difyops_dagster_tests.notify.conftest import SMTP_USER
from difyops_dagster_tests.notify.test_notifier import notify_section

ROOT = Path(__file__).resolve().parents[2]
DAY = "2026-10-07"
# The sensor ticks every 30 s; on a loaded 2-core machine the daemon needs a while to load the location first.
NOTICE_WAIT_S = 300


def sensor_ticks(home: Path) -> int:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        states = [s for s in instance.all_instigator_state() if s.name == "run_failure_sensor"]
        return sum(len(instance.get_ticks(s.instigator_origin_id, s.selector_id)) for s in states)


@pytest.mark.slow
def test_a_failing_job_launched_with_dg_launch_is_announced_on_every_channel(channel_env, webhooks, smtp, tmp_path):
    settings = {
        "dify": {"base_url": "http://127.0.0.1:9/v1"},
        "storage": {"kind": "local", "local_dir": str(tmp_path / "artifacts")},
        "reports": {"apps": [{"name": "bot", "api_key": {"env": "REPORT_APP_KEY"}}], "start_date": "2026-10-01"},
        "notify": notify_section(webhooks, smtp),
    }
    config = tmp_path / "difyops.yaml"
    config.write_text(yaml.safe_dump(settings))
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, **channel_env, "DIFYOPS_CONFIG": str(config), "DAGSTER_HOME": str(home)}
    daemon = DagsterProcess("daemon", dagster_command("dagster-daemon", "run", "-w", "workspace.yaml"), env, ROOT)
    try:
        daemon.start()
        # The first tick only sets the sensor's cursor to the newest event: a failure before it is history.
        daemon.wait_ready(lambda: sensor_ticks(home) > 0, NOTICE_WAIT_S)
        dg_cli = Path(sys.executable).with_name("dg")
        # The daily report of a day whose logs were never fetched fails, naming the missing partition.
        launch = [str(dg_cli), "launch", "--assets", "workflow_report_daily", "--partition", DAY]
        done = subprocess.run(launch, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode != 0 and "RUN_FAILURE" in done.stdout + done.stderr, done.stderr[-2000:]
        wait_for(lambda: len(webhooks.received()) >= 3 and smtp.messages(), NOTICE_WAIT_S, "the failure notices")
    finally:
        daemon.stop()
    assert sorted(m["service"] for m in webhooks.received()) == ["dingtalk", "slack", "wecom"]
    slack_text = webhooks.received("slack")[0]["body"]["text"]
    assert "Dagster run failed: __ASSET_JOB" in slack_text
    assert f"workflow_logs has not been materialized for {DAY} (bot)" in slack_text
    (mail,) = smtp.messages()
    assert mail["tls"] and mail["login"] == SMTP_USER
    message = email.message_from_string(mail["data"], policy=policy.default)
    assert message["Subject"] == "[FAILED] Dagster run failed: __ASSET_JOB"
