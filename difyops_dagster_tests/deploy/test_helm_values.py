"""helm/ is checked without a cluster: the values, merged over the chart's defaults, validate against the chart's
published values schema (helm/schema/, copied from dagster-io/dagster helm/dagster); the instance the chart renders
from them passes Dagster's own instance checks (a schema-valid values file can still render an instance Dagster
refuses, e.g. pools next to the run coordinator's maxConcurrentRuns); the settings file the pods mount loads, and
names only real steps; every variable it reads is provided by helm/config.example.yaml.
"""

from __future__ import annotations

import re

import dagster as dg
import pytest
import yaml
from dagster._config import validate_config
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config
from dagster_k8s import K8sRunLauncher
from dagster_postgres import PostgresRunStorage

from difyops_dagster.config_model import iter_secrets
from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import parse_settings
from difyops_dagster_tests.deploy.helm_chart import HELM, chart_values, render_instance, schema_errors

ENV_REF = re.compile(r"\{env:\s*([A-Z0-9_]+)\s*\}")
# One sync of a dataset pair at a time through the daemon's queue (sync/runs.py).
SYNC_TARGET_LIMIT = [{"key": "difyops/sync_target", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]


def ours() -> dict:
    return yaml.safe_load((HELM / "values.yaml").read_text())


def k8s_manifests() -> dict[tuple[str, str], dict]:
    documents = yaml.safe_load_all((HELM / "config.example.yaml").read_text())
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in documents}


def settings_env() -> dict[str, str]:
    manifests = k8s_manifests()
    return {**manifests["ConfigMap", "difyops-config"]["data"], **manifests["Secret", "difyops-secrets"]["stringData"]}


def check_instance(tmp_path, instance: dict) -> None:
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(instance))
    dagster_instance_config(str(tmp_path))


def test_the_values_validate_against_the_charts_schema():
    assert schema_errors(chart_values()) == []


def test_the_schema_check_can_fail():
    assert schema_errors(chart_values({"runLauncher": {"type": "NoSuchLauncher"}}))


def test_the_rendered_instance_passes_dagsters_checks(tmp_path):
    instance = render_instance(chart_values())
    check_instance(tmp_path, instance)
    launcher = validate_config(K8sRunLauncher.config_type(), instance["run_launcher"]["config"])
    assert launcher.success, launcher.errors
    storage = validate_config(PostgresRunStorage.config_type(), instance["run_storage"]["config"])
    assert storage.success, storage.errors
    assert instance["run_storage"]["config"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
    assert instance["concurrency"]["pools"]["default_limit"] == 1
    assert instance["run_retries"] == {"enabled": True, "max_retries": 1, "retry_on_asset_or_op_failure": False}
    assert instance["run_monitoring"]["free_slots_after_run_end_seconds"] == 60
    assert instance["concurrency"]["runs"]["tag_concurrency_limits"] == SYNC_TARGET_LIMIT


def test_the_instance_check_catches_a_run_limit_set_twice(tmp_path):
    values = chart_values(
        {"dagsterDaemon": {"runCoordinator": {"config": {"queuedRunCoordinator": {"maxConcurrentRuns": 8}}}}}
    )
    with pytest.raises(DagsterInvalidConfigError, match="incompatible with the `concurrency > runs` config"):
        check_instance(tmp_path, render_instance(values))


@pytest.mark.parametrize("name", ["dagster.yaml", "docker/dagster.yaml"])
def test_the_repositorys_instance_files_pass_dagsters_checks(tmp_path, name):
    text = (HELM.parent / name).read_text()
    check_instance(tmp_path, yaml.safe_load(text))
    instance = yaml.safe_load(text)
    assert instance["concurrency"]["pools"]["default_limit"] == 1
    assert instance["concurrency"]["runs"]["tag_concurrency_limits"] == SYNC_TARGET_LIMIT
    assert instance["run_monitoring"]["free_slots_after_run_end_seconds"] == 60


def test_the_code_location_runs_this_package_with_the_k8s_run_launcher_and_external_postgres():
    values = ours()
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["codeServerArgs"] == ["-m", "difyops_dagster.definitions"]
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
    assert {"name": "DIFYOPS_CONFIG", "value": "/etc/difyops/difyops.yaml"} in deployment["env"]
    assert deployment["volumeMounts"][0]["mountPath"] == "/etc/difyops"
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["enabled"] is False
    assert values["dagsterDaemon"]["enabled"] is True


def test_every_variable_of_the_pods_settings_is_provided_and_secrets_only_by_the_secret():
    manifests = k8s_manifests()
    config_map = set(manifests["ConfigMap", "difyops-config"]["data"])
    secret = set(manifests["Secret", "difyops-secrets"]["stringData"])
    values = ours()
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert [c["name"] for c in deployment["envConfigMaps"]] == ["difyops-config"]
    assert [s["name"] for s in deployment["envSecrets"]] == ["difyops-secrets"]
    assert ("Secret", values["global"]["postgresqlSecretName"]) in manifests
    read = set(ENV_REF.findall((HELM / "difyops.yaml").read_text()))
    assert read - config_map - secret == set()
    settings = parse_settings(yaml.safe_load((HELM / "difyops.yaml").read_text()), settings_env())
    secret_vars = {ref.env for _, ref in iter_secrets(settings)}
    assert secret_vars <= secret and not secret_vars & config_map
    assert all(value == "change-me" for value in manifests["Secret", "difyops-secrets"]["stringData"].values())


def test_the_pods_settings_run_each_step_in_its_own_pod_and_name_only_real_steps(monkeypatch):
    for key, value in settings_env().items():
        monkeypatch.setenv(key, value)  # resources resolve their EnvVars when the run config is validated
    settings = parse_settings(yaml.safe_load((HELM / "difyops.yaml").read_text()), settings_env())
    assert settings.execution is not None and settings.execution.executor == "k8s_job"
    assert settings.storage.kind == "s3"
    defs = build_definitions(settings)
    ops = {node.name for job in defs.resolve_all_job_defs() for node in job.graph.node_dict.values()}
    job = defs.resolve_job_def("sync_job")
    named = set(settings.execution.k8s.steps)
    assert {"synced_dataset_blue", "video_downloads"} <= named <= ops, f"not steps: {sorted(named - ops)}"
    run_config = dg.validate_run_config(job, {})["execution"]["k8s_job_executor"]
    uploads = run_config["per_step_k8s_config"]["synced_dataset_blue"]["container_config"]["resources"]
    assert uploads["requests"] == {"cpu": "1", "memory": "1Gi"}
    assert run_config["step_k8s_config"]["job_spec_config"]["backoff_limit"] == 0
