"""Each configured workflow app is an asset whose materialization runs the workflow once on Dify (the stand-in):
outputs, status, tokens, steps and ids land in metadata a person can read; a workflow that failed fails the
materialization with Dify's error text and is never run again by a retry; bad inputs are named before Dify
runs anything; only a start that Dify provably refused is retried; the check shows the latest run's outcome.
"""

from __future__ import annotations

import dagster as dg

from difyops_dagster_tests.workflows.conftest import (
    definitions,
    failure_message,
    materialize,
    run_logs,
    with_app,
)


def test_each_configured_app_is_an_asset_with_its_schedule_check_and_pool(workflow_apps):
    defs = definitions(workflow_apps)
    graph = defs.resolve_asset_graph()
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} == {
        "workflow_run_summarize",
        "workflow_run_slow",
    }
    for name in ("summarize", "slow"):
        node = graph.get(dg.AssetKey(f"workflow_run_{name}"))
        assert node.group_name == "workflows"
        assert node.pools == {f"dify_workflow_{name}"}
        assert dg.AssetCheckKey(node.key, "last_run_succeeded") in graph.asset_check_keys
    (schedule,) = defs.schedules
    assert (schedule.name, schedule.cron_schedule, schedule.execution_timezone) == (
        "workflow_summarize_schedule",
        "0 * * * *",
        "Asia/Shanghai",
    )
    assert defs.resolve_job_def("run_workflow_apps")


def test_adding_an_app_to_the_settings_adds_its_asset_and_resource(workflow_apps, monkeypatch):
    monkeypatch.setenv("THIRD_KEY", "app-third")
    data = {**workflow_apps}
    data["workflows"] = {
        "apps": [*workflow_apps["workflows"]["apps"], {"name": "third", "api_key": {"env": "THIRD_KEY"}}]
    }
    from difyops_dagster.definitions import build_definitions
    from difyops_dagster.settings import parse_settings

    defs = build_definitions(parse_settings(data, {"THIRD_KEY": "app-third", "SUMMARIZE_KEY": "k", "SLOW_KEY": "k"}))
    assert dg.AssetKey("workflow_run_third") in defs.resolve_asset_graph().get_all_asset_keys()
    assert "workflow_app_third" in defs.resources


def test_a_run_records_status_outputs_tokens_steps_and_ids(workflow_apps, standin, instance):
    result = materialize(workflow_apps, "summarize", {"text": "the quarterly report"}, instance=instance)
    assert result.success
    metadata = result.asset_materializations_for_node("workflow_run_summarize")[0].metadata
    (run,) = standin.admin.state()["runs"]
    assert run["inputs"] == {"style": "short", "text": "the quarterly report"}
    assert run["user"] == "difyops-dagster"
    assert metadata["status"].value == "succeeded"
    assert metadata["workflow_run_id"].value == run["id"]
    assert metadata["task_id"].value == run["task_id"]
    assert (metadata["total_tokens"].value, metadata["total_steps"].value) == (77, 3)
    assert metadata["elapsed_s"].value >= 0
    assert metadata["outputs_json"].value == {"summary": "Summary (short) of the quarterly report"}
    assert "### summary" in metadata["outputs"].value
    assert "Summary (short) of the quarterly report" in metadata["outputs"].value
    (check,) = result.get_asset_check_evaluations()
    assert check.passed and check.check_name == "last_run_succeeded"


def test_streaming_logs_each_node_as_it_runs(workflow_apps, instance):
    result = materialize(workflow_apps, "summarize", {"text": "t"}, instance=instance)
    logs = run_logs(instance, result.run_id)
    started = next(i for i, m in enumerate(logs) if m.startswith("Dify run ") and "started (task" in m)
    assert "node 2 'LLM' (llm) started" in logs[started:]
    assert any(m.startswith("node 2 'LLM' (llm) succeeded in") and m.endswith("77 tokens") for m in logs)
    assert any(m.startswith("Dify run ") and "succeeded in" in m for m in logs)


def test_blocking_mode_records_the_same_metadata(workflow_apps, standin, instance):
    data = with_app(workflow_apps, "summarize", response_mode="blocking")
    result = materialize(data, "summarize", {"text": "b", "style": "long"}, instance=instance)
    assert result.success
    metadata = result.asset_materializations_for_node("workflow_run_summarize")[0].metadata
    assert metadata["outputs_json"].value == {"summary": "Summary (long) of b"}
    assert metadata["response_mode"].value == "blocking"
    assert not any(m.startswith("node ") for m in run_logs(instance, result.run_id))


def test_a_failed_workflow_fails_with_difys_error_and_is_not_run_again(workflow_apps, standin, instance):
    result = materialize(workflow_apps, "summarize", {"text": "__fail__"}, instance=instance)
    assert not result.success
    message = failure_message(result)
    assert "Dify workflow app 'summarize' failed" in message
    assert "input 'text' asked the stand-in to fail" in message
    (run,) = standin.admin.state()["runs"]
    assert run["status"] == "failed" and run["id"] in message
    assert not any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed and check.metadata["status"].value == "failed"
    assert result.asset_materializations_for_node("workflow_run_summarize") == []


def test_bad_inputs_are_named_before_dify_runs_anything(workflow_apps, standin, instance):
    result = materialize(workflow_apps, "summarize", {"style": "medium", "txt": "typo"}, instance=instance)
    assert not result.success
    message = failure_message(result)
    assert "input 'text' (Text) is required" in message
    assert "input 'style' must be one of ['short', 'long'], got 'medium'" in message
    assert "input 'txt' is not an input of this app (it takes: text, style)" in message
    assert standin.admin.state()["runs"] == []


def test_launchpad_inputs_override_the_defaults_key_by_key(workflow_apps, standin, instance):
    result = materialize(workflow_apps, "summarize", {"text": "x", "style": "long"}, instance=instance)
    assert result.success
    assert standin.admin.state()["runs"][0]["inputs"] == {"text": "x", "style": "long"}


def test_dify_unreachable_before_the_run_is_retried_then_succeeds(workflow_apps, standin, instance):
    standin.admin.set_faults([{"path": "/v1/parameters", "status": 503, "times": 2}])
    result = materialize(workflow_apps, "summarize", {"text": "retry"}, instance=instance)
    assert result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 2
    assert len(standin.admin.state()["runs"]) == 1


def test_a_run_request_refused_with_429_is_retried(workflow_apps, standin, instance):
    standin.admin.set_faults([{"path": "/v1/workflows/run", "method": "POST", "status": 429, "times": 1}])
    result = materialize(workflow_apps, "summarize", {"text": "busy"}, instance=instance)
    assert result.success
    assert len(standin.admin.state()["runs"]) == 1


def test_a_server_error_on_the_run_request_is_final_because_the_run_may_have_started(workflow_apps, standin, instance):
    standin.admin.set_faults([{"path": "/v1/workflows/run", "method": "POST", "status": 502, "times": 1}])
    result = materialize(workflow_apps, "summarize", {"text": "maybe"}, instance=instance)
    assert not result.success
    assert "Dify may have started the run anyway" in failure_message(result)
    assert not any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)
    posts = [r for r in standin.admin.request_log() if r["method"] == "POST" and r["path"] == "/v1/workflows/run"]
    assert len(posts) == 1


def test_a_wrong_key_fails_naming_its_variable_but_not_its_value(workflow_apps, instance, monkeypatch):
    monkeypatch.setenv("SUMMARIZE_KEY", "app-not-a-known-key")
    result = materialize(workflow_apps, "summarize", {"text": "x"}, instance=instance)
    message = failure_message(result)
    assert "Access token is invalid" in message and "$SUMMARIZE_KEY" in message
    assert "app-not-a-known-key" not in message
    assert not any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)


def test_past_its_timeout_the_dify_task_is_stopped_and_the_run_fails(workflow_apps, standin, instance):
    data = with_app(workflow_apps, "slow", timeout_s=1)
    result = materialize(data, "slow", {"text": "x"}, instance=instance)
    assert not result.success
    assert "Dify workflow app 'slow' timed out after 1 s and was stopped" in failure_message(result)
    (run,) = standin.admin.state()["runs"]
    assert run["status"] == "stopped"
    assert any(m.startswith(f"stopped Dify task {run['task_id']}") for m in run_logs(instance, result.run_id))


def test_run_workflow_apps_runs_every_app_and_one_failure_does_not_stop_the_others(workflow_apps, standin, instance):
    data = with_app(workflow_apps, "summarize", inputs={"text": "from the job"})
    job = definitions(data).resolve_job_def("run_workflow_apps")
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success  # `slow` has no default for its required input `text`
    assert [r["inputs"] for r in standin.admin.state()["runs"]] == [{"text": "from the job"}]
    assert len(result.asset_materializations_for_node("workflow_run_summarize")) == 1
    failed = [e.step_key for e in result.all_events if e.is_step_failure]
    assert failed == ["workflow_run_slow"]


def test_the_app_key_never_reaches_the_event_log(workflow_apps, instance):
    ok = materialize(workflow_apps, "summarize", {"text": "t"}, instance=instance)
    failed = materialize(workflow_apps, "summarize", {"text": "__fail__"}, instance=instance)
    for result in (ok, failed):
        logged = "\n".join(repr(entry) for entry in instance.all_logs(result.run_id))
        assert "summarize" in logged and "app-summarize-key" not in logged
