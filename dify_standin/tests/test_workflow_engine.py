"""The tiny workflow: outputs are templates over the inputs, time is spread over the nodes, failures come from
the app (`fail_message`) or from an input (`__fail__` fails a node, `__error__` breaks the run with an `error`
event), a stop is seen between sleeps, and seeded runs derive node executions consistent with themselves."""

from __future__ import annotations

import pytest

from dify_standin.workflow_engine import (
    WorkflowRun,
    derive_nodes,
    execute,
    parse_workflow,
    render,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.01)


def new_run(spec, inputs) -> WorkflowRun:
    return WorkflowRun(
        id="run-1", app_id="app-1", workflow_id=spec.workflow_id, version=spec.version, inputs=inputs, created_at=0
    )


def run_to_end(config: dict, inputs: dict, *, stop_after: int | None = None):
    spec, clock = parse_workflow(config), FakeClock()
    run = new_run(spec, inputs)
    events = []
    for event in execute(run, spec, clock=clock, sleep=clock.sleep):
        events.append(event)
        if stop_after is not None and len(events) == stop_after:
            run.stop_requested = True
    return run, events


def test_placeholders_take_input_values_and_unknown_or_null_ones_become_empty():
    assert render("Hi {{name}}, {{#greeting#}}!", {"name": "Ada", "greeting": "hey"}) == "Hi Ada, hey!"
    assert render("Hi {{ name }}", {"name": "Ada"}) == "Hi Ada"
    assert render("{{a}}{{missing}}{{none}}", {"a": 1, "none": None}) == "1"


def test_a_successful_run_renders_outputs_counts_tokens_and_steps():
    run, events = run_to_end({"outputs": {"answer": "Hello {{name}}"}, "tokens": 90}, {"name": "world"})
    assert (run.status, run.outputs, run.total_tokens, run.total_steps) == (
        "succeeded",
        {"answer": "Hello world"},
        90,
        3,
    )
    names = [e["event"] for e in events]
    assert names[:2] == ["node_started", "node_finished"] and names[-1] == "node_finished"
    assert "".join(e["data"]["text"] for e in events if e["event"] == "text_chunk") == "Hello world"


def test_duration_is_spread_over_the_nodes():
    run, events = run_to_end({"duration_s": 3.0}, {"query": "x"})
    finished = [e["data"] for e in events if e["event"] == "node_finished"]
    assert [round(n["elapsed_time"], 1) for n in finished] == [1.0, 1.0, 1.0]
    assert run.elapsed_time == pytest.approx(3.0, abs=0.1)


def test_only_llm_nodes_carry_tokens_and_price_but_every_node_reports_usage():
    _, events = run_to_end({"tokens": 1000, "price_per_1k_tokens": 0.5}, {"query": "x"})
    metadata = [e["data"]["execution_metadata"] for e in events if e["event"] == "node_finished"]
    assert [m["total_tokens"] for m in metadata] == [0, 1000, 0]
    assert metadata[1] == {"total_tokens": 1000, "total_price": "0.5000000", "currency": "USD"}


def test_a_fail_input_fails_the_node_before_end_and_the_run_with_its_message():
    run, events = run_to_end({}, {"query": "__fail__"})
    assert run.status == "failed" and "asked the stand-in to fail" in run.error
    last = events[-1]["data"]
    assert (events[-1]["event"], last["title"], last["status"]) == ("node_finished", "LLM", "failed")
    assert run.outputs is None and run.total_steps == 2 and run.error_event is None


def test_fail_message_fails_every_run_at_the_chosen_node():
    config = {"nodes": ["Start", "Retrieval", "LLM", "End"], "fail_message": "boom", "fail_node": "Retrieval"}
    run, events = run_to_end(config, {"query": "fine"})
    assert (run.status, run.error, run.total_steps) == ("failed", "boom", 2)
    assert events[-1]["data"]["node_type"] == "knowledge-retrieval"


def test_an_error_input_breaks_the_run_with_an_error_event_instead_of_a_failed_node():
    run, events = run_to_end({}, {"query": "__error__"})
    assert run.status == "failed" and run.error_event["code"] == "completion_request_error"
    assert events[-1]["event"] == "node_started"


def test_a_stop_request_ends_the_run_stopped_without_outputs():
    run, events = run_to_end({"duration_s": 3.0}, {"query": "x"}, stop_after=1)
    assert (run.status, run.error, run.outputs) == ("stopped", "Stopped by user.", None)
    assert [n["status"] for n in run.nodes] == ["stopped"] and [e["event"] for e in events] == ["node_started"]
    assert run.elapsed_time < 0.5


@pytest.mark.parametrize(
    "config",
    [{"outputs": "x"}, {"nodes": [{"type": "llm"}]}, {"fail_node": "Nope"}, {"tokens": -1}, {"typo": 1}],
)
def test_a_bad_workflow_config_is_refused_with_the_key_named(config):
    with pytest.raises(ValueError):
        parse_workflow(config)


def test_seeded_runs_derive_nodes_matching_their_status_steps_and_tokens():
    spec = parse_workflow({})
    run = new_run(spec, {"query": "x"})
    run.status, run.error, run.total_steps, run.total_tokens, run.elapsed_time = "failed", "bad", 2, 50, 4.0
    nodes = derive_nodes(run, spec)
    assert [(n["title"], n["status"]) for n in nodes] == [("Start", "succeeded"), ("LLM", "failed")]
    assert nodes[1]["error"] == "bad" and nodes[1]["execution_metadata"]["total_tokens"] == 50
    assert sum(n["elapsed_time"] for n in nodes) == pytest.approx(4.0)
    run.status, run.error, run.total_steps, run.outputs = "succeeded", None, 3, {"answer": "a"}
    assert derive_nodes(run, spec)[-1]["outputs"] == {"answer": "a"}
