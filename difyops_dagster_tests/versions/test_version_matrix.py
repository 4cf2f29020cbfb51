"""The product on every Dify version it supports, end to end, against the stand-in speaking that version.

Each cell runs what an operator runs: the blue/green sync with a change and a delete, a workflow run streamed,
blocking and followed by polling after its stream breaks off, and a daily report with node executions through
the console login. `dify.version` is left at `auto`: the product reads the version off the server (`GET /v1/`),
as it would off a real Dify. The versions are where Dify's API changes (shared/dify-api.md §10): 1.0 (no document
metadata, date-time strings in the run detail), 1.7 (bare `200` metadata writes), 1.9.1 / 1.9.2 (console tokens
in the body / in cookies), 1.11.2 (base64 console password), 1.13.2 (the newest recorded) and the newest
behaviour (Dify's own OpenAPI description). The README's supported-versions table is this matrix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from dify_standin.processes import StandinProcess
from difyops_dagster.definitions import build_definitions
from difyops_dagster.dify.compat import parse_version
from difyops_dagster.settings import parse_settings
from difyops_dagster_tests.sync.conftest import open_world

MATRIX = ["1.0.0", "1.7.2", "1.9.1", "1.9.2", "1.11.2", "1.13.2", "newest"]
APP_KEY = "app-matrix-echo-0001"
FORM = [{"text-input": {"label": "Query", "variable": "query", "required": True, "max_length": 200}}]
CONSOLE_EMAIL, CONSOLE_PASSWORD = "ops@example.com", "console-Passw0rd!"

# Dagster 1.13 reads the deprecated `InitResourceContext.dagster_run` itself when it initializes a nested resource
# (the hand-off IO manager and the report store nest `s3`); the warning is Dagster's, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:InitResourceContext.dagster_run is deprecated:DeprecationWarning")


def _has_document_metadata(version: str) -> bool:
    return version == "newest" or (parse_version(version) or (0, 0, 0)) >= (1, 1, 0)


@pytest.fixture(scope="module", params=MATRIX)
def versioned(request) -> Iterator[StandinProcess]:
    """The stand-in speaking one version of the matrix (one process per version and test module)."""
    with StandinProcess(dify_version=request.param) as server:
        yield server


@pytest.fixture
def dify(versioned: StandinProcess) -> StandinProcess:
    versioned.admin.reset()
    return versioned


@pytest.fixture
def version(request) -> str:
    """The matrix version of this cell."""
    return request.node.callspec.params["versioned"]


def test_a_blue_green_sync_with_a_change_and_a_delete(
    dify, version, s3_server, s3_client, bucket, monkeypatch, tmp_path
):
    with open_world(dify, s3_client, bucket, monkeypatch, tmp_path, endpoint_url=s3_server.endpoint_url) as world:
        world.put("docs/a.md", "alpha")
        world.put("docs/b.md", "beta")
        world.put("docs/c.md", "gamma")
        first = world.run()
        if not _has_document_metadata(version):
            assert not first.success and world.active() is None
            failures = [e.step_failure_data.error.message for e in first.all_events if e.is_step_failure]
            assert failures and all("the sync needs Dify 1.1.0 or later (document metadata)" in m for m in failures)
            assert world.documents(world.blue) == []  # refused before writing anything
            return
        assert first.success and world.active() == "blue"
        world.put("docs/b.md", "beta, second edition")
        world.delete("docs/c.md")
        second = world.run()
        assert second.success and world.active() == "green"
        documents = world.standin.admin.state(text=True)["datasets"]
        green = next(d for d in documents if d["id"] == world.green)["documents"]
        texts = {d["metadata"]["source_key"]: d["text"] for d in green}
        assert texts == {"docs/a.md": "alpha", "docs/b.md": "beta, second edition"}


def _workflow_settings(dify: StandinProcess, **app: object) -> dict:
    return {
        "dify": {"base_url": dify.api_url, "max_retries": 0, "backoff_factor_s": 0.01, "rate_limit_per_second": 0},
        "workflows": {
            "apps": [
                {"name": "echo", "api_key": {"env": "MATRIX_APP_KEY"}, "inputs": {"query": "hello"}, **app},
            ]
        },
    }


def _run_workflow(data: dict, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    defs = build_definitions(parse_settings(data, {"MATRIX_APP_KEY": APP_KEY}))
    job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_selection={dg.AssetKey("workflow_run_echo")})
    return job.execute_in_process(instance=instance, raise_on_error=False)


@pytest.mark.parametrize("mode", ["streaming", "blocking", "polling"])
def test_a_workflow_run_records_its_status_and_outputs(dify, mode, monkeypatch):
    monkeypatch.setenv("MATRIX_APP_KEY", APP_KEY)
    duration = 3 if mode == "polling" else 0  # each node silent for a second: the stream read times out
    dify.admin.create_app(
        "echo",
        APP_KEY,
        workflow={"outputs": {"answer": "Echo: {{query}}"}, "duration_s": duration},
        user_input_form=FORM,
    )
    data = _workflow_settings(dify, response_mode="blocking" if mode == "blocking" else "streaming")
    if mode == "polling":
        data["dify"]["read_timeout_s"] = 0.5
    with dg.instance_for_test() as instance:
        result = _run_workflow(data, instance)
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        (materialization,) = result.asset_materializations_for_node("workflow_run_echo")
        metadata = materialization.metadata
        assert metadata["status"].value == "succeeded"
        assert metadata["outputs_json"].value == {"answer": "Echo: hello"}
        logs = [entry.user_message for entry in instance.all_logs(result.run_id)]
    if mode == "polling":
        assert any("the event stream broke off" in line for line in logs)


def _report_settings(dify: StandinProcess, app_id: str, local_dir: str) -> dict:
    return {
        "dify": {
            "base_url": dify.api_url,
            "rate_limit_per_second": 0,
            "backoff_factor_s": 0.01,
            "max_retries": 1,
            "console": {"url": dify.url, "email": CONSOLE_EMAIL, "password": {"env": "MATRIX_CONSOLE_PASSWORD"}},
        },
        "storage": {"kind": "local", "local_dir": local_dir},
        "reports": {
            "apps": [{"name": "echo", "api_key": {"env": "MATRIX_APP_KEY"}, "app_id": app_id}],
            "timezone": "UTC",
            "start_date": "2026-01-01",
        },
    }


def test_a_daily_report_carries_node_executions_and_cost(dify, monkeypatch, tmp_path):
    env = {"MATRIX_APP_KEY": APP_KEY, "MATRIX_CONSOLE_PASSWORD": CONSOLE_PASSWORD}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = dify.admin.create_app("echo", APP_KEY, workflow={"tokens": 100, "price_per_1k_tokens": 0.002})
    yesterday = (datetime.now(UTC) - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    rows = [
        {"id": f"run-{i}", "created_at": int((yesterday + timedelta(minutes=i)).timestamp()), "total_tokens": 100}
        for i in range(5)
    ]
    dify.admin.seed_logs(app["id"], rows)
    dify.admin.set_console_account(CONSOLE_EMAIL, CONSOLE_PASSWORD)
    settings = parse_settings(_report_settings(dify, app["id"], str(tmp_path)), env)
    defs = build_definitions(settings)
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection={dg.AssetKey("workflow_logs"), dg.AssetKey("workflow_report_daily")}
    )
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(
            instance=instance, partition_key=yesterday.date().isoformat(), raise_on_error=False
        )
        assert result.success, [e.message for e in result.all_events if e.is_failure]
    report = _report_json(tmp_path, yesterday.date().isoformat())
    totals = report["summary"]["totals"]
    assert totals["runs"] == 5
    assert totals["cost_runs"] == 5, report["summary"].get("notes")  # node executions read through the console
    assert totals["cost"] and totals["cost"] > 0


def _report_json(root: Path, day: str) -> dict:
    return json.loads((root / "reports" / "daily" / "echo" / f"echo_daily_{day}.json").read_text())


def test_the_readme_table_lists_exactly_the_versions_this_matrix_runs():
    """The README's supported-versions table names, per version range, the version its cells were proved on."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme.split("<!-- supported-versions -->")[1].split("<!-- /supported-versions -->")[0]
    (tested,) = [line for line in table.splitlines() if line.startswith("| tested on |")]
    cells = [cell.replace("`", "").replace(",", " ").split() for cell in tested.split("|")[2:-1]]
    assert [version for cell in cells for version in cell] == MATRIX
