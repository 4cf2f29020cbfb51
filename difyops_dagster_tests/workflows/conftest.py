"""Workflow apps on the stand-in and the settings that point at them.

`summarize` answers at once (outputs from a template over its inputs, 77 tokens); `slow` takes 20 s spread over
its three nodes, long enough to be stopped, timed out or terminated mid-run, and is cut short by each of those.
"""

from __future__ import annotations

import copy

import dagster as dg
import pytest

from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import parse_settings

FORM = [
    {"paragraph": {"label": "Text", "variable": "text", "required": True, "max_length": 200}},
    {"select": {"label": "Style", "variable": "style", "required": False, "options": ["short", "long"]}},
]
ENV = {"SUMMARIZE_KEY": "app-summarize-key", "SLOW_KEY": "app-slow-key"}
SLOW_SECONDS = 20


@pytest.fixture
def workflow_apps(standin, monkeypatch) -> dict:
    """Both apps on the stand-in, their keys in the environment, and the settings (a dict to adjust per test)."""
    workflow = {"outputs": {"summary": "Summary ({{style}}) of {{text}}"}, "tokens": 77}
    standin.admin.create_app("summarize", ENV["SUMMARIZE_KEY"], workflow=workflow, user_input_form=FORM)
    slow = {"duration_s": SLOW_SECONDS, "outputs": {"done": "yes"}}
    standin.admin.create_app("slow", ENV["SLOW_KEY"], workflow=slow, user_input_form=FORM)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    return {
        "dify": {"base_url": standin.api_url, "max_retries": 0, "backoff_factor_s": 0.01, "rate_limit_per_second": 0},
        "workflows": {
            "apps": [
                {
                    "name": "summarize",
                    "api_key": {"env": "SUMMARIZE_KEY"},
                    "description": "Summarizes a text.",
                    "inputs": {"style": "short"},
                    "schedule_cron": "0 * * * *",
                    "schedule_timezone": "Asia/Shanghai",
                    "retry_wait_s": 0.05,
                },
                {"name": "slow", "api_key": {"env": "SLOW_KEY"}, "timeout_s": 60, "retry_wait_s": 0.05},
            ]
        },
    }


def with_app(data: dict, name: str, **changes) -> dict:
    """A copy of the settings with one app's entries changed."""
    data = copy.deepcopy(data)
    for app in data["workflows"]["apps"]:
        if app["name"] == name:
            app.update(changes)
    return data


def definitions(data: dict) -> dg.Definitions:
    return build_definitions(parse_settings(data, ENV))


def materialize(data: dict, app: str, inputs: dict | None = None, *, instance: dg.DagsterInstance):
    """Materialize one app's asset in process, as the UI's launchpad would with `inputs`."""
    asset = f"workflow_run_{app}"
    job = definitions(data).resolve_implicit_global_asset_job_def().get_subset(asset_selection={dg.AssetKey(asset)})
    config = {"ops": {asset: {"config": {"inputs": inputs or {}}}}}
    return job.execute_in_process(run_config=config, instance=instance, raise_on_error=False)


def failure_message(result) -> str:
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    return failure.step_failure_data.error.message


def run_logs(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [entry.user_message for entry in instance.all_logs(run_id)]


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance
