"""The `execution` settings choose the executor of every job: Dagster's default when absent, the k8s executor
(one pod per step, with per-step pod settings for the steps that fan out) only when the settings say so, and a
wrong section fails the load with the setting's path.
"""

from __future__ import annotations

import dagster as dg
import pytest

from difyops_dagster.config_model import SettingsError
from difyops_dagster.execution.defs import build_defs
from difyops_dagster.settings import parse_settings

UPLOAD_POD = {"container_config": {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}}


def settings_with(execution: dict | None, storage: dict | None = None):
    data: dict = {"dify": {"base_url": "http://127.0.0.1:1/v1"}}
    if execution is not None:
        data["execution"] = execution
    if storage is not None:
        data["storage"] = storage
    return parse_settings(data, environ={})


@dg.asset
def probe() -> None:
    """A stand-in asset: only the job's executor is under test."""


def execution_config(execution: dict | None, storage: dict | None = None) -> dict:
    defs = dg.Definitions.merge(
        build_defs(settings_with(execution, storage)),
        dg.Definitions(assets=[probe], jobs=[dg.define_asset_job("probe_job")]),
    )
    return dg.validate_run_config(defs.resolve_job_def("probe_job"), {})["execution"]


def test_without_the_section_jobs_keep_dagsters_default_executor():
    assert build_defs(settings_with(None)).executor is None
    assert "multi_or_in_process_executor" in execution_config(None)


def test_multiprocess_limits_the_steps_running_at_once():
    assert execution_config({"executor": "multiprocess", "max_concurrent": 2}) == {
        "multiprocess": {"max_concurrent": 2, "retries": {"enabled": {}}}
    }


def test_in_process_runs_every_step_in_the_run_process():
    assert "in_process" in execution_config({"executor": "in_process"})


def test_k8s_job_gives_the_heavy_steps_their_own_pod_settings_in_dagster_k8s_form():
    config = execution_config(
        {
            "executor": "k8s_job",
            "max_concurrent": 3,
            "k8s": {
                "job_namespace": "difyops",
                "step": {"job_spec_config": {"ttl_seconds_after_finished": 3600}},
                "steps": {"synced_dataset_blue": UPLOAD_POD},
            },
        },
        storage={"kind": "s3", "bucket": "artifacts"},
    )["k8s_job_executor"]
    assert config["max_concurrent"] == 3
    assert config["job_namespace"] == "difyops"
    assert config["step_k8s_config"]["job_spec_config"] == {"ttl_seconds_after_finished": 3600}
    assert config["per_step_k8s_config"]["synced_dataset_blue"]["container_config"] == UPLOAD_POD["container_config"]


def test_k8s_job_without_shared_storage_fails_the_load():
    with pytest.raises(SettingsError, match=r"execution\.executor k8s_job needs storage\.kind s3"):
        build_defs(settings_with({"executor": "k8s_job"}))


def test_a_misspelled_pod_setting_names_its_path():
    with pytest.raises(SettingsError, match=r"execution\.k8s\.steps\.synced_dataset_blue\.container_confg"):
        settings_with({"executor": "k8s_job", "k8s": {"steps": {"synced_dataset_blue": {"container_confg": {}}}}})


def test_pod_settings_without_the_k8s_executor_are_refused():
    with pytest.raises(SettingsError, match="only read by the k8s_job executor"):
        settings_with({"executor": "multiprocess", "k8s": {}})
