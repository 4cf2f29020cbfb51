"""The fault matrix: every Dify call the product makes, times every way Dify (or S3) fails, one cell each.

A cell injects one fault into one call on the real stand-in (or on the real S3 server, through a proxy), runs the
product the Dagster way in process, and holds the outcome to one rule: the run converged (the dataset mirrors the
bucket, the report rows are the logs, the workflow run is recorded), or it failed with a message that names the
call and the code — and in no cell is data lost or duplicated, or the active colour moved to a dataset whose checks
did not pass. After a failed cell, a fault-free re-run must converge: nothing a fault leaves behind needs a person.

The sync's step retry policy waits 10 s between attempts in production; the cells shorten the wait (not the number
of attempts) so that a cell whose call fails inside `synced_dataset` still runs in seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import pytest

from difyops_dagster.sync import assets as sync_assets
from difyops_dagster.workflows import run as workflow_run
from difyops_dagster_tests.hardening.fault_kinds import (
    DIFY_OVERRIDES,
    FAULTS,
    OVER_MS,
    Fault,
    error_texts,
    names_call_and_code,
)
from difyops_dagster_tests.hardening.report_world import ENV as REPORT_ENV
from difyops_dagster_tests.hardening.report_world import report_texts, seed_day
from difyops_dagster_tests.hardening.s3_fault_proxy import S3Fault, S3FaultProxy
from difyops_dagster_tests.hardening.sync_world import (
    NEW,
    SYNC_SETTINGS,
    duplicated_keys,
    mirror_problems,
    seed,
    snapshot,
)
from difyops_dagster_tests.hardening.workflow_world import APPS, WorkflowWorld, create_app, log_texts, recorded_run
from difyops_dagster_tests.hardening.workflow_world import key as workflow_key
from difyops_dagster_tests.sync.conftest import SyncWorld, open_world

pytestmark = pytest.mark.slow

ID = "[0-9a-f-]+"


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    path: str  # searched in the request path; also how the client names the call in its errors
    scenario: str = "change"
    named: str | None = None  # how the failure names the call, when not as `METHOD /path failed`

    @property
    def endpoint(self) -> str:
        return self.named or f"{self.method} {self.path.removesuffix('$')} failed"


SYNC_CALLS = [
    Call("documents list", "GET", f"/datasets/{ID}/documents$"),
    Call("dataset detail", "GET", f"/datasets/{ID}$"),
    Call("metadata fields list", "GET", f"/datasets/{ID}/metadata$"),
    Call("metadata field create", "POST", f"/datasets/{ID}/metadata$", scenario="first"),
    Call("document create by file", "POST", f"/datasets/{ID}/document/create-by-file$"),
    Call("document update by file", "POST", f"/datasets/{ID}/documents/{ID}/update-by-file$"),
    Call("document delete", "DELETE", f"/datasets/{ID}/documents/{ID}$"),
    Call("document metadata write", "POST", f"/datasets/{ID}/documents/metadata$"),
    Call("indexing status", "GET", f"/datasets/{ID}/documents/[0-9]+/indexing-status$"),
]


def cells(calls: list[Call]) -> list:
    return [pytest.param(call, fault, id=f"{call.name} x {fault.name}") for call in calls for fault in FAULTS]


@pytest.fixture(scope="session")
def s3_proxy(s3_server):
    proxy = S3FaultProxy(s3_server.endpoint_url).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def matrix_world(standin, s3_server, s3_proxy, s3_client, bucket, monkeypatch, tmp_path):
    """The sync world of sync/conftest.py, its product-side S3 traffic through the fault proxy."""
    s3_proxy.reset()
    monkeypatch.setattr(sync_assets, "RETRY", dg.RetryPolicy(max_retries=2, delay=0.2))
    dataset = {"indexing_technique": "high_quality", "process_rule": {"mode": "automatic"}}
    with open_world(
        standin,
        s3_client,
        bucket,
        monkeypatch,
        tmp_path,
        endpoint_url=s3_proxy.endpoint_url,
        instance=dg.DagsterInstance.ephemeral(),
        **dataset,
    ) as world:
        world.overrides = dict(SYNC_SETTINGS)
        world.dify_overrides = dict(DIFY_OVERRIDES)
        yield world
    s3_proxy.reset()


def settle(world: SyncWorld) -> None:
    """Let answers the client gave up on land before the next run (Dify finishes them anyway)."""
    time.sleep(OVER_MS / 1000)
    world.standin.admin.clear_faults()
    world.standin.admin.set_indexing(error_names="")


def run_sync_cell(
    world: SyncWorld,
    record_property,
    expect: tuple[str, str] | None,
    must_converge: bool,
    fired: Callable[[], bool],
) -> None:
    """Run the sync with the fault armed and hold the outcome to the matrix's rule; then re-run without it."""
    before_active = world.active()
    active_dataset = {"blue": world.blue, "green": world.green}.get(before_active or "")
    before = snapshot(world, active_dataset) if active_dataset else None

    result = world.run()

    assert fired(), "the fault never fired: the cell tested nothing"
    if result.success:
        assert world.active() == "blue", "a successful sync promotes the colour it wrote"
        assert mirror_problems(world, world.blue) == []
        record_property("converged", 1)
    else:
        assert not must_converge, f"this fault must be absorbed: {error_texts(result)}"
        assert world.active() == before_active, "a failed sync never moves the active colour"
        if active_dataset:
            assert snapshot(world, active_dataset) == before, "the active dataset is never written"
        assert duplicated_keys(world, world.blue) == []
        assert expect is not None, f"the run failed without a fault to blame: {error_texts(result)}"
        endpoint, code = expect
        texts = error_texts(result)
        assert names_call_and_code(texts, endpoint, code), f"no failure names {endpoint} and {code}: {texts}"
        record_property("failed_with_a_clear_message", 1)
        settle(world)
        world.dify_overrides = {}  # the repair run is a normal one: production timeouts, nothing injected
        repaired = world.run()
        assert repaired.success and world.active() == "blue", error_texts(repaired)
        assert mirror_problems(world, world.blue) == []


@pytest.mark.scoreboard("faults")
@pytest.mark.parametrize(("call", "fault"), cells(SYNC_CALLS))
def test_sync_call_fault(matrix_world, record_property, call: Call, fault: Fault):
    world = matrix_world
    seed(world, call.scenario)
    world.standin.admin.set_faults(fault.rules(call.path, call.method))

    def fired() -> bool:
        return sum(rule["fired"] for rule in world.standin.admin.faults()) >= 1

    run_sync_cell(world, record_property, (call.endpoint, fault.code or "?"), fault.must_converge, fired)


@pytest.mark.scoreboard("faults")
@pytest.mark.parametrize("cell", ["document indexing x ends in error"])
def test_indexing_that_ends_in_error(matrix_world, record_property, cell: str):
    world = matrix_world
    seed(world, "change")
    world.standin.admin.set_indexing(error_names=r"^new\.md$")

    def fired() -> bool:
        return any(d["indexing_status"] == "error" for d in world.documents(world.blue))

    run_sync_cell(world, record_property, (r"new\.md \(Dify: ", "indexing failed"), False, fired)


S3_CELLS = {
    "s3 list page 2 x 500 once": (
        [S3Fault("GET", query="continuation-token", status=500, code="InternalError", times=1)],
        None,
    ),
    "s3 list x SlowDown 503": ([S3Fault("GET", query="list-type=2", status=503, code="SlowDown", times=2)], None),
    "s3 get object x SlowDown 503": (
        [S3Fault("GET", path=r"/(new|edit)\.md$", status=503, code="SlowDown", times=2)],
        None,
    ),
    "s3 get object x deleted after listing": (
        [S3Fault("GET", path=r"/new\.md$", delete_first=True, times=1)],
        ("new.md", "NoSuchKey"),
    ),
}


@pytest.mark.scoreboard("faults")
@pytest.mark.parametrize("cell", list(S3_CELLS))
def test_s3_fault(matrix_world, s3_proxy, record_property, cell: str):
    world = matrix_world
    seed(world, "change")
    rules, expect = S3_CELLS[cell]
    s3_proxy.reset(rules, max_keys=2)

    run_sync_cell(world, record_property, expect, False, lambda: all(rule.fired for rule in rules))
    assert set(NEW) >= {k for k in world.keys_in(world.blue)}


# ---------------------------------------------------------------- workflow runs


@dataclass(frozen=True)
class AppCall:
    call: Call
    app: str
    mode: str = "streaming"


WORKFLOW_CALLS = [
    AppCall(Call("app parameters", "GET", "/parameters$"), "quick"),
    AppCall(Call("workflow run streaming", "POST", "/workflows/run$"), "quick"),
    AppCall(Call("workflow run blocking", "POST", "/workflows/run$"), "quick", "blocking"),
    AppCall(Call("workflow run detail", "GET", f"/workflows/run/{ID}$"), "patient"),
    AppCall(Call("workflow task stop", "POST", "/workflows/tasks/[^/]+/stop$"), "endless"),
]


@pytest.fixture
def workflow_instance(standin, monkeypatch):
    for app in APPS:
        monkeypatch.setenv(f"{app.upper()}_KEY", workflow_key(app))
    monkeypatch.setattr(workflow_run, "STOP_GRACE_S", 2.0)  # production gives Dify 30 s to report a stopped run
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.mark.scoreboard("faults")
@pytest.mark.parametrize(
    ("app_call", "fault"),
    [pytest.param(a, f, id=f"{a.call.name} x {f.name}") for a in WORKFLOW_CALLS for f in FAULTS],
)
def test_workflow_call_fault(standin, workflow_instance, record_property, app_call: AppCall, fault: Fault):
    call = app_call.call
    world = WorkflowWorld(standin, workflow_instance, app_call.app, create_app(standin, app_call.app), app_call.mode)
    standin.admin.set_faults(fault.rules(call.path, call.method))

    result = world.materialize()

    assert sum(rule["fired"] for rule in standin.admin.faults()) >= 1, f"{call.name} was never called"
    runs = world.runs()
    assert len(runs) <= 1, "a workflow that may have started is never run a second time"
    recorded = recorded_run(result, app_call.app)
    good = "stopped" if app_call.app == "endless" else "succeeded"
    if recorded == (runs[0]["id"], good) if runs else False:
        assert result.success == (good == "succeeded")
        assert runs[0]["status"] == good or good == "stopped"
        record_property("converged", 1)
        return
    assert not fault.must_converge, f"this fault must be absorbed: {error_texts(result)}"
    texts = error_texts(result) + log_texts(workflow_instance, result.run_id)
    assert names_call_and_code(texts, call.endpoint, fault.code or "?"), f"no failure names {call.name}: {texts}"
    if recorded is not None:  # what was recorded is Dify's own run, never a guess
        assert runs and recorded[0] == runs[0]["id"]
    record_property("failed_with_a_clear_message", 1)


# ---------------------------------------------------------------- workflow-log reports

REPORT_CALLS = [
    Call("workflow logs", "GET", "/workflows/logs$"),
    Call(
        "report run detail", "GET", f"/workflows/run/{ID}$", named=r"run details \(GET /workflows/run/\{id\}\) failed"
    ),
    Call("console login", "POST", "/console/api/login$", named="POST /login failed"),
    Call(
        "console node executions",
        "GET",
        f"/console/api/apps/{ID}/workflow-runs/{ID}/node-executions$",
        named=r"node executions \(GET /console/api/apps/\{app_id\}/workflow-runs/\{run_id\}/node-executions\) failed",
    ),
]


@pytest.mark.scoreboard("faults")
@pytest.mark.parametrize(("call", "fault"), cells(REPORT_CALLS))
def test_report_call_fault(standin, monkeypatch, tmp_path, record_property, call: Call, fault: Fault):
    for name, value in REPORT_ENV.items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.ephemeral() as instance:
        world = seed_day(standin, instance, str(tmp_path))
        standin.admin.set_faults(fault.rules(call.path, call.method))

        result = world.materialize()

    assert sum(rule["fired"] for rule in standin.admin.faults()) >= 1, f"{call.name} was never called"
    day = world.stored()
    assert day is not None, "the day is stored as fetched or as unavailable, never left unsaid"
    texts = report_texts(result) + error_texts(result)
    if day.status.ok:
        assert sorted(row["run_id"] for row in day.rows) == sorted(world.run_ids), "the rows are the day's logs"
        enriched = all(row["inputs"] is not None and row["cost"] is not None for row in day.rows)
        if enriched and not day.status.notes:
            record_property("converged", 1)
            return
    else:
        assert day.rows == [] and day.status.error, "an unreadable day is marked so, never stored as empty"
    assert not fault.must_converge, f"this fault must be absorbed: {texts}"
    assert names_call_and_code(texts, call.endpoint, fault.code or "?"), f"no note names {call.name}: {texts}"
    record_property("failed_with_a_clear_message", 1)
