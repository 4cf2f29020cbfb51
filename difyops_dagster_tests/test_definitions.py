"""The code location loads from a settings file, and a wrong or missing setting fails the load naming itself.

`dg check defs` is what CI and operators run; it must exit non-zero with the setting's name.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
DEMO_ENV = {
    "DIFYOPS_CONFIG": str(ROOT / "config" / "demo.yaml"),
    "DIFY_BASE_URL": "http://127.0.0.1:5001/v1",
    "DIFY_DATASET_API_KEY": "dataset-demo",
    "DIFY_DEMO_APP_KEY": "app-demo",
    "DIFY_CONSOLE_URL": "http://127.0.0.1:5001",
    "DIFY_CONSOLE_PASSWORD": "demo",
    "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
}


def test_the_demo_configuration_loads_every_feature_it_names():
    defs = build_definitions(load_settings(DEMO_ENV))
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert {"sync", "sync_handbook", "workflows", "reports", "video"} <= groups
    jobs = {j.name for j in defs.resolve_all_job_defs()}
    assert {"sync_job", "rollback_colour_job", "sync_handbook_job"} <= jobs
    assert "daily_sync_handbook_schedule" in {s.name for s in defs.schedules or []}
    assert "bucket_changed_handbook_sensor" in {s.name for s in defs.sensors or []}


def test_the_demo_handbook_is_a_single_dataset_sync_in_a_group_of_its_own():
    """`syncs: [handbook]` beside the blue/green `sync:`: its own group, keys and dataset, no colours to switch."""
    defs = build_definitions(load_settings(DEMO_ENV))
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys() if graph.get(key).group_name == "sync_handbook"}
    assert keys == {f"handbook/{asset}" for asset in ("s3_objects", "dify_documents", "sync_plan", "synced_dataset")}
    jobs = {j.name for j in defs.resolve_all_job_defs()}
    assert "rollback_colour_handbook_job" not in jobs  # single mode: nothing to roll back to


def _validate(tmp_path, settings: dict, env: dict[str, str]) -> subprocess.CompletedProcess:
    config = tmp_path / "difyops.yaml"
    config.write_text(yaml.safe_dump(settings))
    clean = {k: v for k, v in os.environ.items() if k not in DEMO_ENV}
    dg_cli = Path(sys.executable).with_name("dg")
    return subprocess.run(
        [str(dg_cli), "check", "defs", "--target-path", str(ROOT)],
        env={**clean, **env, "DIFYOPS_CONFIG": str(config), "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


BLUE = "0b1e0000-0000-4000-8000-000000000001"
GREEN = "06ee0000-0000-4000-8000-000000000002"
GOOD = {
    "dify": {"base_url": "http://127.0.0.1:5001/v1", "dataset_api_key": {"env": "DIFY_KEY"}},
    "s3": {"endpoint_url": "http://127.0.0.1:9000"},
    "sync": {"bucket": "b", "blue_dataset_id": BLUE, "green_dataset_id": GREEN},
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "env", "named"),
    [
        ({"dify": {**GOOD["dify"], "base_url": "dify.example.com"}}, {"DIFY_KEY": "k"}, "dify.base_url"),
        ({}, {}, "dify.dataset_api_key (environment variable DIFY_KEY)"),
        ({"s3": {"endpoint_url": "localhost:9000"}}, {"DIFY_KEY": "k"}, "s3.endpoint_url"),
        (
            {"sync": {"bucket": "b", "blue_dataset_id": BLUE}},
            {"DIFY_KEY": "k"},
            "sync.blue_dataset_id and sync.green_dataset_id",
        ),
        ({"sync": {**GOOD["sync"], "schedule_cron": "every day"}}, {"DIFY_KEY": "k"}, "sync.schedule_cron"),
    ],
)
def test_dg_check_defs_fails_naming_the_setting(tmp_path, change, env, named):
    result = _validate(tmp_path, {**GOOD, **change}, env)
    assert result.returncode != 0
    assert named in result.stdout + result.stderr


@pytest.mark.slow
def test_dg_check_defs_passes_on_the_demo_settings(tmp_path):
    result = _validate(tmp_path, yaml.safe_load((ROOT / "config" / "demo.yaml").read_text()), DEMO_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout


def test_the_readme_configuration_table_matches_the_settings():
    from difyops_dagster.settings_reference import BEGIN, END, render_settings_table

    readme = (ROOT / "README.md").read_text()
    assert BEGIN in readme and END in readme, "README lacks the generated settings table"
    table = readme.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert table == render_settings_table(), "run `python -m difyops_dagster.settings_reference` and paste into README"
