"""Workflow-app calls: a failed workflow is HTTP 200 with status failed; streaming yields events and can be
stopped; an unknown run is None whether the version answers 404 or an all-null body.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from difyops_dagster.dify.errors import DifyError
from difyops_dagster_tests.dify.conftest import APP_KEY, FAST, app_client


def test_info_and_parameters_describe_the_app(apps):
    assert apps.info().name == "echo"
    (field,) = apps.parameters().user_input_form
    assert (field.variable, field.kind, field.required) == ("query", "text-input", True)


def test_a_blocking_run_returns_outputs(apps):
    result = apps.run_workflow({"query": "world"}, user="tester")
    assert result.run.status == "succeeded"
    assert result.run.outputs == {"answer": "Hello world"}
    assert result.run.total_tokens == 42


def test_a_failed_workflow_is_a_result_not_an_http_error(apps):
    result = apps.run_workflow({"query": "__fail__"}, user="tester")
    assert result.run.status == "failed" and "asked the stand-in to fail" in result.run.error


def test_a_missing_user_is_dify_error_400(apps):
    with pytest.raises(DifyError, match="Arg user must be provided"):
        apps.run_workflow({"query": "x"}, user="")


def test_streaming_yields_events_ending_in_workflow_finished(apps):
    events = list(apps.stream_workflow({"query": "stream"}, user="tester"))
    names = [e.event for e in events]
    assert names[0] == "workflow_started" and names[-1] == "workflow_finished"
    assert "node_started" in names and "node_finished" in names
    assert events[-1].data["outputs"] == {"answer": "Hello stream"}


def test_stopping_a_streaming_run_ends_it_stopped(standin):
    app = standin.admin.create_app("slow", "app-slow-key", workflow={"duration_s": 3})
    client = app_client(standin, "app-slow-key")
    events = client.stream_workflow({"query": "x"}, user="tester")
    first = next(events)
    threading.Timer(0.3, client.stop_task, args=(first.task_id, "tester")).start()
    final = next(e for e in events if e.event == "workflow_finished")
    assert final.data["status"] == "stopped"
    assert app["id"]


def test_run_detail_reads_inputs_from_a_json_string(apps):
    result = apps.run_workflow({"query": "detail"}, user="tester")
    run = apps.get_workflow_run(result.workflow_run_id)
    assert run.inputs == {"query": "detail"} and run.status == "succeeded"


@pytest.mark.parametrize("version", ["1.12.1", "1.14"])
def test_an_unknown_run_is_none_in_every_version(version):
    from dify_standin.processes import StandinProcess

    with StandinProcess(dify_version=version) as standin:
        standin.admin.create_app("echo", APP_KEY)
        unknown = "0a000000-0000-4000-8000-0000000000ff"  # a non-UUID id is a 500 on real Dify
        assert app_client(standin, version=version).get_workflow_run(unknown) is None


def test_an_app_key_cannot_reach_datasets_and_a_dataset_key_cannot_run(standin, app):
    with pytest.raises(DifyError) as info:
        app_client(standin, standin.dataset_key).info()
    assert info.value.status == 401


def test_a_stream_that_stalls_past_the_read_timeout_is_a_dify_timeout_error(standin):
    standin.admin.create_app("slow", "app-stall-key", workflow={"duration_s": 3})
    client = app_client(standin, "app-stall-key", replace(FAST, read_timeout_s=0.3, max_retries=0))
    events = client.stream_workflow({"query": "x"}, user="tester")
    assert next(events).event == "workflow_started"
    with pytest.raises(DifyError) as error:
        list(events)
    assert (error.value.status, error.value.code) == (None, "timeout")
    assert error.value.endpoint == "POST /workflows/run"
