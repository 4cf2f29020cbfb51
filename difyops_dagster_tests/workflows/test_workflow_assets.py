"""Workflow apps as assets, against the stand-in: outputs and status in metadata, Dify's failures as failures
(not retried), bad inputs named before any call, and a terminated Dagster run stopping the Dify task.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import dagster as dg
import pytest
import yaml

from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import parse_settings

FORM = [
    {"paragraph": {"label": "Text", "variable": "text", "required": True, "max_length": 200}},
    {"select": {"label": "Style", "variable": "style", "required": False, "options": ["short", "long"]}},
]


@pytest.fixture
def apps(standin, monkeypatch):
    standin.admin.create_app(
        "summarize",
        "app-summarize-key",
        workflow={"outputs": {"summary": "Summary of {{text}}"}, "tokens": 77},
        user_input_form=FORM,
    )
    standin.admin.create_app(
        "slow", "app-slow-key", workflow={"duration_s": 6, "outputs": {"done": "yes"}}, user_input_form=FORM
    )
    env = {"SUMMARIZE_KEY": "app-summarize-key", "SLOW_KEY": "app-slow-key"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    data = {
        "dify": {"base_url": standin.api_url, "max_retries": 1, "backoff_factor_s": 0.01},
        "workflows": {
            "apps": [
                {
                    "name": "summarize",
                    "api_key": {"env": "SUMMARIZE_KEY"},
                    "inputs": {"style": "short"},
                    "schedule_cron": "0 * * * *",
                },
                {"name": "slow", "api_key": {"env": "SLOW_KEY"}, "timeout_s": 30},
            ]
        },
    }
    return data, env


def materialize(data, env, asset: str, inputs: dict | None = None, **app_overrides):
    if app_overrides:
        for app in data["workflows"]["apps"]:
            app.update(app_overrides)
    defs = build_definitions(parse_settings(data, env))
    job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_selection={dg.AssetKey(asset)})
    config = {"ops": {asset: {"config": {"inputs": inputs or {}}}}}
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(run_config=config, instance=instance, raise_on_error=False)
        result.log_text = "\n".join(entry.user_message for entry in instance.all_logs(result.run_id))
        return result


def test_each_configured_app_is_an_asset_with_its_schedule(apps):
    data, env = apps
    defs = build_definitions(parse_settings(data, env))
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {"workflow_run_summarize", "workflow_run_slow"}
    (schedule,) = defs.schedules
    assert schedule.name == "workflow_summarize_schedule" and schedule.cron_schedule == "0 * * * *"
    assert "run_workflow_apps" in {j.name for j in defs.resolve_all_job_defs()}


def test_a_run_records_status_outputs_and_tokens(apps, standin):
    result = materialize(*apps, "workflow_run_summarize", {"text": "the quarterly report"})
    assert result.success
    metadata = result.asset_materializations_for_node("workflow_run_summarize")[0].metadata
    assert metadata["status"].value == "succeeded" and metadata["total_tokens"].value == 77
    assert metadata["outputs_json"].value == {"summary": "Summary of the quarterly report"}
    assert "Summary of the quarterly report" in metadata["outputs"].value
    (run,) = standin.admin.state()["runs"]
    assert run["inputs"] == {"style": "short", "text": "the quarterly report"}


def test_a_failed_workflow_fails_with_difys_error_and_is_not_rerun(apps, standin):
    result = materialize(*apps, "workflow_run_summarize", {"text": "__fail__"})
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "Dify workflow failed" in failure.step_failure_data.error.message
    assert "asked the stand-in to fail" in failure.step_failure_data.error.message
    assert len(standin.admin.state()["runs"]) == 1


def test_bad_inputs_are_named_before_dify_runs_anything(apps, standin):
    result = materialize(*apps, "workflow_run_summarize", {"text": "x", "style": "medium"})
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "input 'style' must be one of ['short', 'long']" in failure.step_failure_data.error.message
    assert standin.admin.state()["runs"] == []


def test_streaming_logs_node_progress(apps, standin):
    result = materialize(*apps, "workflow_run_summarize", {"text": "t"})
    assert "node 2 'LLM' started" in result.log_text
    assert "node 'LLM' succeeded" in result.log_text


def test_blocking_mode_works_too(apps):
    data, env = apps
    data["workflows"]["apps"][0]["response_mode"] = "blocking"
    result = materialize(data, env, "workflow_run_summarize", {"text": "b"})
    assert result.success


def test_a_timeout_stops_the_dify_task(apps, standin):
    data, env = apps
    data["workflows"]["apps"][1]["timeout_s"] = 1
    result = materialize(data, env, "workflow_run_slow", {"text": "x"})
    assert not result.success
    time.sleep(0.5)
    (run,) = standin.admin.state()["runs"]
    assert run["status"] == "stopped"


@pytest.mark.slow
def test_the_cli_materializes_and_terminating_it_stops_the_dify_task(apps, standin, tmp_path):
    data, env = apps
    config = tmp_path / "difyops.yaml"
    config.write_text(yaml.safe_dump(data))
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    full_env = {**os.environ, **env, "DIFYOPS_CONFIG": str(config), "DAGSTER_HOME": str(tmp_path)}
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")

    def command(asset: str, text: str) -> list[str]:
        config = {"ops": {asset: {"config": {"inputs": {"text": text}}}}}
        return [
            dagster,
            "asset",
            "materialize",
            "-m",
            "difyops_dagster.definitions",
            "--select",
            asset,
            "--config-json",
            json.dumps(config),
        ]

    ok = subprocess.run(
        command("workflow_run_summarize", "cli"), env=full_env, capture_output=True, text=True, timeout=180
    )
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert standin.admin.state()["runs"][0]["status"] == "succeeded"

    slow = subprocess.Popen(
        command("workflow_run_slow", "long"), env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
        r["user"] and r["status"] == "running" for r in standin.admin.state()["runs"][1:]
    ):
        time.sleep(0.1)
    slow.send_signal(signal.SIGINT)  # what terminating a run does to its worker
    slow.wait(60)
    time.sleep(0.5)
    assert standin.admin.state()["runs"][1]["status"] == "stopped"
