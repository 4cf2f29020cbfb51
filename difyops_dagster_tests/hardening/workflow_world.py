"""The workflow side of the fault matrix: apps on the stand-in shaped so that one materialization makes the call
under test, and the rule a workflow cell is held to.

- `quick` answers at once: `GET /parameters`, then `POST /workflows/run` (streaming, or blocking with the read
  timeout of the matrix as its timeout).
- `patient` takes 4.5 s over three nodes (1.5 s each), longer than the read timeout between two events: the
  stream stalls, and the product follows the run by `GET /workflows/run/{id}` until it ends (as behind a proxy
  that cuts streams).
- `endless` takes 20 s with a timeout of 1 s: the watchdog sends `POST /workflows/tasks/{id}/stop`.

Rule: Dify never holds two runs for one materialization (a run that may have started is never re-run); a run
that succeeded is recorded with Dify's run id; one that was stopped at its timeout is recorded as such (the
check carries the run id); anything else fails naming the call and its code (in the failure or the run log).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from difyops_dagster.definitions import build_definitions
from difyops_dagster.settings import parse_settings
from difyops_dagster_tests.hardening.fault_kinds import DIFY_OVERRIDES, READ_TIMEOUT_S

FORM = [{"paragraph": {"label": "Text", "variable": "text", "required": True, "max_length": 200}}]
APPS = {
    "quick": ({"outputs": {"summary": "Summary of {{text}}"}, "tokens": 10}, {"timeout_s": 30}),
    "patient": ({"duration_s": 4.5, "outputs": {"done": "yes"}}, {"timeout_s": 30}),
    "endless": ({"duration_s": 20, "outputs": {"done": "yes"}}, {"timeout_s": 1}),
}


@dataclass
class WorkflowWorld:
    standin: Any
    instance: dg.DagsterInstance
    app: str
    app_id: str
    mode: str = "streaming"
    cell_text: str = field(default_factory=lambda: f"a fault matrix cell {uuid.uuid4().hex[:12]}")

    def settings(self):
        entry = {
            "name": self.app,
            "api_key": {"env": f"{self.app.upper()}_KEY"},
            "response_mode": self.mode,
            "retry_wait_s": 0.05,
            **APPS[self.app][1],
        }
        if self.mode == "blocking":
            entry["timeout_s"] = READ_TIMEOUT_S
        data = {"dify": {"base_url": self.standin.api_url, **DIFY_OVERRIDES}, "workflows": {"apps": [entry]}}
        return parse_settings(data, {f"{self.app.upper()}_KEY": key(self.app)})

    def materialize(self) -> dg.ExecuteInProcessResult:
        asset = dg.AssetKey(f"workflow_run_{self.app}")
        defs = build_definitions(self.settings())
        job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_selection={asset})
        config = {"ops": {asset.path[-1]: {"config": {"inputs": {"text": self.cell_text}}}}}
        return job.execute_in_process(run_config=config, instance=self.instance, raise_on_error=False)

    def runs(self) -> list[dict]:
        """This cell's runs: the app keeps its id from cell to cell, and a run a previous cell left going in the
        stand-in can land after the reset, so runs are told apart by the cell's own input text."""
        return [
            r
            for r in self.standin.admin.state()["runs"]
            if r.get("app_id", self.app_id) == self.app_id and self.cell_text in json.dumps(r.get("inputs"))
        ]


def key(app: str) -> str:
    return f"app-matrix-{app}-key"


def create_app(standin, app: str) -> str:
    return standin.admin.create_app(app, key(app), workflow=APPS[app][0], user_input_form=FORM)["id"]


def log_texts(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [entry.user_message for entry in instance.all_logs(run_id) if entry.level >= 30]  # warnings and errors


def recorded_run(result: dg.ExecuteInProcessResult, app: str) -> tuple[str, str] | None:
    """(Dify run id, status) as the asset recorded them: its materialization, else its check."""
    materializations = result.asset_materializations_for_node(f"workflow_run_{app}")
    if materializations:
        metadata = materializations[0].metadata
        return metadata["workflow_run_id"].value, metadata["status"].value
    for evaluation in result.get_asset_check_evaluations():
        return evaluation.metadata["workflow_run_id"].value, evaluation.metadata["status"].value
    return None
