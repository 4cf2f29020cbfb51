"""The tiny workflow every stand-in app runs: Start -> nodes -> End, outputs from templates over the inputs.

An app's `workflow` config: `outputs` (name -> template with `{{input}}` placeholders), `duration_s` (spread
evenly over the nodes), `nodes` (titles), `tokens`, `fail_message` (always fail), `version`. Any input whose
value is the string `__fail__` makes that run fail too, so one app can succeed and fail on demand.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from dify_standin.state import App, Run

FAIL_VALUE = "__fail__"
DEFAULT_WORKFLOW = {
    "outputs": {"answer": "Echo: {{query}}"},
    "duration_s": 0.0,
    "nodes": ["Start", "LLM", "End"],
    "tokens": 120,
    "fail_message": None,
    "version": "2026-11-01 10:00:00",
}


def render(template: str, inputs: dict) -> str:
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: str(inputs.get(m.group(1), "")), template)


def failure_of(app: App, inputs: dict) -> str | None:
    workflow = {**DEFAULT_WORKFLOW, **app.workflow}
    if workflow["fail_message"]:
        return str(workflow["fail_message"])
    for key, value in inputs.items():
        if value == FAIL_VALUE:
            return f"Node LLM run failed: input '{key}' asked the stand-in to fail"
    return None


def node_records(run: Run, app: App) -> list[dict]:
    """The node executions of a finished run, derived from the run (so seeded runs cost no extra memory)."""
    workflow = {**DEFAULT_WORKFLOW, **app.workflow}
    titles = workflow["nodes"]
    per_node = run.elapsed_time / max(len(titles), 1)
    records = []
    for index, title in enumerate(titles, start=1):
        is_llm = title == "LLM"
        failed = run.status == "failed" and index == len(titles) - 1
        tokens = run.total_tokens if is_llm else 0
        records.append(
            {
                "id": f"{run.id[:24]}{index:012d}",
                "index": index,
                "predecessor_node_id": f"node-{index - 1}" if index > 1 else None,
                "node_id": f"node-{index}",
                "node_type": {"Start": "start", "End": "end"}.get(title, "llm"),
                "title": title,
                "inputs": run.inputs if index == 1 else {},
                "process_data": {},
                "outputs": (run.outputs or {}) if index == len(titles) else {},
                "status": "failed" if failed else "succeeded",
                "error": run.error if failed else None,
                "elapsed_time": per_node,
                "execution_metadata": {
                    "total_tokens": tokens,
                    "total_price": f"{tokens * 0.000002:.7f}",
                    "currency": "USD",
                },
                "extras": {},
                "created_at": int(run.created_at + per_node * (index - 1)),
                "finished_at": int(run.created_at + per_node * index),
            }
        )
    return records


def execute(run: Run, app: App, *, sleep=time.sleep) -> Iterator[dict]:
    """Run the workflow, yielding (event name, data) dicts per node; sets the run's final state."""
    workflow = {**DEFAULT_WORKFLOW, **app.workflow}
    titles = workflow["nodes"]
    step = float(workflow["duration_s"]) / max(len(titles), 1)
    failure = failure_of(app, run.inputs)
    started = time.time()
    for index, title in enumerate(titles, start=1):
        node = {
            "id": f"exec-{index}",
            "node_id": f"node-{index}",
            "node_type": title.lower(),
            "title": title,
            "index": index,
        }
        yield {
            "event": "node_started",
            "data": {**node, "predecessor_node_id": None, "inputs": run.inputs, "created_at": int(time.time())},
        }
        deadline = time.time() + step
        while time.time() < deadline:
            if run.stop_requested:
                break
            sleep(min(0.05, max(deadline - time.time(), 0)))
        if run.stop_requested:
            run.status, run.error = "stopped", "Workflow stopped by user."
            break
        failed = failure is not None and index == len(titles) - 1
        tokens = int(workflow["tokens"]) if title == "LLM" else 0
        yield {
            "event": "node_finished",
            "data": {
                **node,
                "status": "failed" if failed else "succeeded",
                "error": failure if failed else None,
                "outputs": {},
                "process_data": {},
                "elapsed_time": step,
                "execution_metadata": {
                    "total_tokens": tokens,
                    "total_price": f"{tokens * 0.000002:.7f}",
                    "currency": "USD",
                },
                "finished_at": int(time.time()),
            },
        }
        run.total_steps = index
        if failed:
            run.status, run.error = "failed", failure
            break
    else:
        run.outputs = {name: render(template, run.inputs) for name, template in workflow["outputs"].items()}
        run.status = "succeeded"
        for text in run.outputs.values():
            yield {"event": "text_chunk", "data": {"text": text, "from_variable_selector": ["node-3", "text"]}}
    run.total_tokens = int(workflow["tokens"]) if run.status != "stopped" else 0
    run.elapsed_time = time.time() - started
    run.finished_at = time.time()
