"""A past range backfilled from the command line, the way an operator does it: `dg launch --assets ...
--partition-range A...B` against the code location loaded from a settings file, in a fresh DAGSTER_HOME.
One run covers the range (BackfillPolicy.single_run) and each day's report counts exactly its own runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from difyops_dagster_tests.reports.scenario import EXPECTED, read_json

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_range_backfilled_with_dg_launch_gives_each_day_its_own_runs(standin, month, report_env, tmp_path):
    settings = {
        "dify": {"base_url": standin.api_url, "rate_limit_per_second": 0},
        "storage": {"kind": "local", "local_dir": str(tmp_path / "artifacts")},
        "reports": {
            "apps": [{"name": "support_bot", "api_key": {"env": "BOT_KEY"}, "app_id": month["id"]}],
            "timezone": "Asia/Shanghai",
            "start_date": "2026-10-01",
        },
    }
    config = tmp_path / "difyops.yaml"
    config.write_text(yaml.safe_dump(settings))
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, **report_env, "DIFYOPS_CONFIG": str(config), "DAGSTER_HOME": str(home)}
    dg_cli = Path(sys.executable).with_name("dg")
    command = [str(dg_cli), "launch", "--assets", "workflow_logs,workflow_report_daily",
               "--partition-range", "2026-10-06...2026-10-08"]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "RUN_SUCCESS" in done.stderr + done.stdout
    for day in ("2026-10-06", "2026-10-07", "2026-10-08"):
        assert read_json(tmp_path / "artifacts", "daily", day)["summary"]["totals"]["runs"] == EXPECTED[day]
    status = json.loads(
        (tmp_path / "artifacts/reports/logs/support_bot/support_bot_logs_2026-10-07.status.json").read_text()
    )
    assert status["ok"] and status["rows"] == EXPECTED["2026-10-07"]
