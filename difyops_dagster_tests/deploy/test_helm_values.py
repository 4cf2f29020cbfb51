"""helm/values.yaml, merged over the chart's defaults, validates against the chart's published values schema.

helm/schema/ holds the official chart's schema and defaults (dagster-io/dagster helm/dagster). Its 16 `$ref`s to
kubernetesjsonschema.dev cannot be fetched offline; they are treated as permissive, as the schema's own notes say.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import yaml

HELM = Path(__file__).resolve().parents[2] / "helm"


def permissive_remote_refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str) and node["$ref"].startswith("http"):
            return {}
        return {k: permissive_remote_refs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [permissive_remote_refs(v) for v in node]
    return node


def merged(defaults: dict, override: dict) -> dict:
    out = copy.deepcopy(defaults)
    for key, value in override.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def errors_for(values: dict) -> list[str]:
    schema = permissive_remote_refs(json.loads((HELM / "schema" / "dagster-values.schema.json").read_text()))
    validator = jsonschema.Draft7Validator(schema)
    return sorted(f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(values))


def ours() -> dict:
    return yaml.safe_load((HELM / "values.yaml").read_text())


def test_the_values_validate_against_the_charts_schema():
    defaults = yaml.safe_load((HELM / "schema" / "dagster-values.yaml").read_text())
    assert errors_for(merged(defaults, ours())) == []


def test_the_schema_check_can_fail():
    defaults = yaml.safe_load((HELM / "schema" / "dagster-values.yaml").read_text())
    broken = merged(defaults, ours())
    broken["runLauncher"]["type"] = "NoSuchLauncher"
    assert errors_for(broken)


def test_the_code_location_runs_this_package_with_k8s_run_launcher_and_external_postgres():
    values = ours()
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["codeServerArgs"] == ["-m", "difyops_dagster.definitions"]
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert (
        values["postgresql"]["enabled"] is False and values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    )
    assert values["dagsterDaemon"]["enabled"] is True
