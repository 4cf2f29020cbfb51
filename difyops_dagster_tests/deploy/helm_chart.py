"""The parts of the dagster/dagster chart the tests need, without helm: values merged over the chart's defaults,
the values schema, and the instance `dagster.yaml` the chart renders from them.

`render_instance` follows `helm/dagster/templates/configmap-instance.yaml` and its `helpers/instance/*.tpl` for the
keys this project's values set (scheduler, storages, K8sRunLauncher, queued run coordinator, run monitoring and
retries, retention, telemetry, `additionalInstanceConfig`), so Dagster's own instance checks can judge the result.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

HELM = Path(__file__).resolve().parents[2] / "helm"


def permissive_remote_refs(node: Any) -> Any:
    """The schema's refs to kubernetesjsonschema.dev cannot be fetched offline: they accept anything."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str) and node["$ref"].startswith("http"):
            return {}
        return {key: permissive_remote_refs(value) for key, value in node.items()}
    if isinstance(node, list):
        return [permissive_remote_refs(value) for value in node]
    return node


def merged(defaults: dict, override: dict) -> dict:
    """Helm's merge of a values file over the chart's defaults: maps merge key by key, anything else replaces."""
    out = copy.deepcopy(defaults)
    for key, value in override.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def chart_values(override: dict | None = None) -> dict:
    defaults = yaml.safe_load((HELM / "schema" / "dagster-values.yaml").read_text())
    ours = yaml.safe_load((HELM / "values.yaml").read_text())
    return merged(merged(defaults, ours), override or {})


def schema_errors(values: dict) -> list[str]:
    schema = permissive_remote_refs(json.loads((HELM / "schema" / "dagster-values.schema.json").read_text()))
    validator = jsonschema.Draft7Validator(schema)
    return sorted(f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(values))


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def render_instance(values: dict, namespace: str = "difyops", release: str = "difyops") -> dict:
    pg = values["postgresql"]
    postgres = {
        "postgres_db": {
            "username": pg["postgresqlUsername"],
            "password": {"env": "DAGSTER_PG_PASSWORD"},
            "hostname": pg["postgresqlHost"] if not pg["enabled"] else f"{release}-postgresql",
            "db_name": pg["postgresqlDatabase"],
            "port": pg["service"]["port"],
            "params": pg.get("postgresqlParams") or {},
            **({"scheme": pg["postgresqlScheme"]} if pg.get("postgresqlScheme") else {}),
        }
    }
    instance: dict[str, Any] = {
        "scheduler": {"module": "dagster._core.scheduler", "class": "DagsterDaemonScheduler"},
        "schedule_storage": _storage("schedule_storage", "PostgresScheduleStorage", postgres),
        "run_storage": _storage("run_storage", "PostgresRunStorage", postgres),
        "event_log_storage": _storage("event_log", "PostgresEventLogStorage", postgres),
        "run_launcher": _k8s_run_launcher(values, namespace, release),
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
    }
    daemon = values["dagsterDaemon"]
    if daemon["enabled"] and daemon["runCoordinator"]["enabled"]:
        queued = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
        config = {
            snake(key): queued[key]
            for key in ("maxConcurrentRuns", "tagConcurrencyLimits", "dequeueIntervalSeconds")
            if queued.get(key)
        }
        instance["run_coordinator"] = {
            "module": "dagster._core.run_coordinator",
            "class": "QueuedRunCoordinator",
            **({"config": config} if config else {}),
        }
    if daemon["enabled"] and daemon["runMonitoring"]["enabled"]:
        monitoring = daemon["runMonitoring"]
        instance["run_monitoring"] = {
            "enabled": True,
            "start_timeout_seconds": monitoring["startTimeoutSeconds"],
            "poll_interval_seconds": monitoring["pollIntervalSeconds"],
            **(
                {"max_resume_run_attempts": monitoring["maxResumeRunAttempts"]}
                if monitoring.get("maxResumeRunAttempts")
                else {}
            ),
            **(
                {"free_slots_after_run_end_seconds": monitoring["freeSlotsAfterRunEndSeconds"]}
                if monitoring.get("freeSlotsAfterRunEndSeconds")
                else {}
            ),
        }
    if daemon["enabled"] and daemon["runRetries"]["enabled"]:
        retries = daemon["runRetries"]
        instance["run_retries"] = {
            "enabled": True,
            **({"max_retries": retries["maxRetries"]} if retries.get("maxRetries") else {}),
            **(
                {"retry_on_asset_or_op_failure": retries["retryOnAssetOrOpFailure"]}
                if "retryOnAssetOrOpFailure" in retries
                else {}
            ),
        }
    retention = values.get("retention", {})
    if retention.get("enabled"):
        instance["retention"] = {
            kind: {"purge_after_days": retention[kind]["purgeAfterDays"]}
            for kind in ("sensor", "schedule")
            if retention.get(kind)
        }
    return {**instance, **(values.get("additionalInstanceConfig") or {})}


def _storage(module: str, cls: str, postgres: dict) -> dict:
    return {"module": f"dagster_postgres.{module}", "class": cls, "config": copy.deepcopy(postgres)}


def _k8s_run_launcher(values: dict, namespace: str, release: str) -> dict:
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    config: dict[str, Any] = {
        "load_incluster_config": k8s["loadInclusterConfig"],
        "job_namespace": k8s.get("jobNamespace") or namespace,
        "image_pull_policy": k8s["imagePullPolicy"],
        "service_account_name": f"{release}-dagster",
        "dagster_home": {"env": "DAGSTER_HOME"},
        "instance_config_map": {"env": "DAGSTER_K8S_INSTANCE_CONFIG_MAP"},
        "postgres_password_secret": {"env": "DAGSTER_K8S_PG_PASSWORD_SECRET"},
        "env_config_maps": [{"env": "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP"}]
        + [item["name"] for item in k8s.get("envConfigMaps") or [] if "name" in item],
    }
    if k8s.get("envSecrets"):
        config["env_secrets"] = [item["name"] for item in k8s["envSecrets"] if "name" in item]
    for key in ("envVars", "volumeMounts", "volumes", "labels", "resources"):
        if k8s.get(key):
            config[snake(key)] = k8s[key]
    if k8s.get("runK8sConfig"):
        config["run_k8s_config"] = {snake(key): value for key, value in k8s["runK8sConfig"].items()}
    return {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": config}
