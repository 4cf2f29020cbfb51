"""Running one workflow against the stand-in, below Dagster: however a streaming run ends (finished, timed out,
interrupted, its stream broken off), the Dify task is either finished or stopped, never left running unwatched;
only a start that Dify refused with 429 counts as safe to retry.
"""

from __future__ import annotations

import time

import pytest

from difyops_dagster.dify.resource import DifyResource
from difyops_dagster.workflows.run import RunProgress, WorkflowStartError, run_blocking, run_streaming

FORM = [{"text-input": {"label": "Query", "variable": "query", "required": True}}]


class RecordedLog:
    """Collects log lines; `interrupt_on` raises KeyboardInterrupt from the line that matches, as a signal would."""

    def __init__(self, interrupt_on: str | None = None):
        self.lines: list[tuple[str, str]] = []
        self.interrupt_on = interrupt_on

    def _add(self, level: str, msg: str) -> None:
        self.lines.append((level, msg))
        if self.interrupt_on and msg.startswith(self.interrupt_on):
            raise KeyboardInterrupt

    def info(self, msg: str) -> None:
        self._add("info", msg)

    def warning(self, msg: str) -> None:
        self._add("warning", msg)

    def error(self, msg: str) -> None:
        self._add("error", msg)

    def messages(self, level: str | None = None) -> list[str]:
        return [msg for lvl, msg in self.lines if level in (None, lvl)]


def client(standin, key: str, **options):
    settings = {"max_retries": 0, "backoff_factor_s": 0.01, "rate_limit_per_second": 0, **options}
    return DifyResource(base_url=standin.api_url, **settings).app_client(key)


@pytest.fixture
def apps(standin):
    standin.admin.create_app(
        "quick", "app-quick", workflow={"outputs": {"answer": "A {{query}}"}}, user_input_form=FORM
    )
    standin.admin.create_app("slow", "app-slow", workflow={"duration_s": 20}, user_input_form=FORM)
    standin.admin.create_app("drowsy", "app-drowsy", workflow={"duration_s": 3}, user_input_form=FORM)
    return standin


def only_run(standin) -> dict:
    (run,) = standin.admin.state()["runs"]
    return run


def test_a_streamed_run_returns_the_finished_run_and_the_streamed_text(apps):
    log = RecordedLog()
    outcome = run_streaming(client(apps, "app-quick"), {"query": "q"}, user="u", timeout_s=30, log=log)
    assert outcome.run.status == "succeeded" and outcome.run.outputs == {"answer": "A q"}
    assert outcome.streamed_text == "A q"
    assert outcome.task_id == only_run(apps)["task_id"]
    assert not outcome.timed_out and not outcome.followed_by_polling
    assert log.messages()[:2] == [
        f"Dify run {outcome.run.id} started (task {outcome.task_id})",
        "node 1 'Start' (start) started",
    ]


def test_each_node_is_logged_by_our_own_count_title_and_type_though_dify_streams_index_1_for_all(apps):
    # The stand-in streams as Dify 1.13 does: `index: 1` in every node_started and node_finished event.
    log = RecordedLog()
    run_streaming(client(apps, "app-quick"), {"query": "q"}, user="u", timeout_s=30, log=log)
    nodes = [m.split(" in ")[0] for m in log.messages() if m.startswith("node ")]
    assert nodes == [
        "node 1 'Start' (start) started",
        "node 1 'Start' (start) succeeded",
        "node 2 'LLM' (llm) started",
        "node 2 'LLM' (llm) succeeded",
        "node 3 'End' (end) started",
        "node 3 'End' (end) succeeded",
    ]


def test_parallel_and_iterated_node_executions_keep_the_number_they_started_with():
    progress = RunProgress()
    branch_a = {"id": "exec-a", "node_id": "a", "title": "Search", "node_type": "tool", "index": 1}
    branch_b = {"id": "exec-b", "node_id": "b", "title": "Ask", "node_type": "llm", "index": 1}
    second_item = {**branch_a, "id": "exec-a2"}  # the same node inside an iteration, run again
    labels = [progress.node_label(d) for d in (branch_a, branch_b, branch_b, branch_a, second_item)]
    assert labels == [
        "node 1 'Search' (tool)",
        "node 2 'Ask' (llm)",
        "node 2 'Ask' (llm)",
        "node 1 'Search' (tool)",
        "node 3 'Search' (tool)",
    ]


def test_the_timeout_stops_the_task_even_while_a_node_sends_nothing(apps):
    log = RecordedLog()
    started = time.monotonic()
    outcome = run_streaming(client(apps, "app-slow"), {"query": "q"}, user="u", timeout_s=1, log=log)
    assert time.monotonic() - started < 5  # the first node alone lasts 6.7 s: the watchdog cut it
    assert outcome.timed_out and outcome.run.status == "stopped"
    assert only_run(apps)["status"] == "stopped"
    assert log.messages("warning") == [f"stopped Dify task {outcome.task_id}: it ran past its timeout of 1 s"]


def test_an_interrupt_stops_the_dify_task_and_propagates(apps):
    log = RecordedLog(interrupt_on="node 1 'Start' (start) started")
    with pytest.raises(KeyboardInterrupt):
        run_streaming(client(apps, "app-slow"), {"query": "q"}, user="u", timeout_s=60, log=log)
    deadline = time.monotonic() + 5
    while only_run(apps)["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    run = only_run(apps)
    assert run["status"] == "stopped"
    assert f"stopped Dify task {run['task_id']}: the run was interrupted (KeyboardInterrupt)" in log.messages()


def test_a_stream_that_breaks_off_is_followed_to_the_end_by_polling(apps):
    log = RecordedLog()
    drowsy = client(apps, "app-drowsy", read_timeout_s=0.5)  # each node is silent for 1 s
    outcome = run_streaming(drowsy, {"query": "q"}, user="u", timeout_s=30, log=log, poll_interval_s=0.2)
    assert outcome.followed_by_polling
    assert outcome.run.status == "succeeded" and outcome.run.outputs == {"answer": "Echo: q"}
    assert any("the event stream broke off" in m and "following Dify run" in m for m in log.messages("warning"))
    assert only_run(apps)["status"] == "succeeded"


def test_a_start_refused_with_429_is_safe_to_retry_and_a_server_error_is_not(apps):
    apps.admin.set_faults([{"path": "/v1/workflows/run", "status": 429, "times": 1}])
    with pytest.raises(WorkflowStartError) as refused:
        run_streaming(client(apps, "app-quick"), {"query": "q"}, user="u", timeout_s=30, log=RecordedLog())
    assert refused.value.retry_safe and "concurrency limit" in str(refused.value)
    apps.admin.set_faults([{"path": "/v1/workflows/run", "status": 500, "times": 1}])
    with pytest.raises(WorkflowStartError) as failed:
        run_streaming(client(apps, "app-quick"), {"query": "q"}, user="u", timeout_s=30, log=RecordedLog())
    assert not failed.value.retry_safe and "Dify may have started the run anyway" in str(failed.value)
    assert apps.admin.state()["runs"] == []


def test_a_blocking_run_waits_past_the_client_read_timeout_up_to_its_own(apps):
    drowsy = client(apps, "app-drowsy", read_timeout_s=0.5)
    outcome = run_blocking(drowsy, {"query": "q"}, user="u", timeout_s=30, log=RecordedLog())
    assert outcome.run.status == "succeeded" and outcome.task_id == only_run(apps)["task_id"]


def test_a_blocking_run_past_its_timeout_fails_saying_it_may_still_be_going(apps):
    with pytest.raises(WorkflowStartError) as error:
        run_blocking(client(apps, "app-slow"), {"query": "q"}, user="u", timeout_s=0.5, log=RecordedLog())
    assert not error.value.retry_safe
    assert "did not answer within 0.5 s; the run may still be going" in str(error.value)
