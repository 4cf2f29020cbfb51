"""The tiny workflow every stand-in app runs: Start -> nodes -> End, outputs from templates over the inputs.

An app's `workflow` config (all optional):

| key | meaning | default |
|---|---|---|
| `outputs` | output name -> template with `{{variable}}` placeholders | `{"answer": "Echo: {{query}}"}` |
| `duration_s` | run time, spread evenly over the nodes | `0` |
| `nodes` | node titles (or `{"title", "type"}`); the type is guessed from the title | `["Start", "LLM", "End"]` |
| `tokens` | tokens per run, shared by the `llm` nodes | `120` |
| `price_per_1k_tokens`, `currency` | the LLM nodes' `total_price` | `0.002`, `USD` |
| `fail_message` | every run fails at `fail_node` with this error | none |
| `fail_node` | title of the node that fails | the last node before End |
| `version` | the published workflow version runs and logs report | `2026-11-01 10:00:00` |
| `workflow_id` | the published workflow's id (`POST /workflows/{workflow_id}/run`) | a new UUID |

Failures on demand: an input whose value is `__fail__` makes that run fail at `fail_node` (HTTP 200, status
`failed`, as a real node failure); `__error__` breaks the run with an `error` stream event (a blocking call gets
HTTP 400 `completion_request_error`), as Dify does for errors raised outside the graph (provider quota, invoke
errors).

This module is pure: no Flask, no store; time and sleep are passed in, so it is tested without a server.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

FAIL_VALUE = "__fail__"
ERROR_VALUE = "__error__"
STOPPED_ERROR = "Stopped by user."  # QueueStopEvent.get_stop_reason() for a user stop (Dify 1.x)
DEFAULT_VERSION = "2026-11-01 10:00:00"
NODE_TYPES = {
    "start": "start",
    "end": "end",
    "llm": "llm",
    "code": "code",
    "knowledge": "knowledge-retrieval",
    "retrieval": "knowledge-retrieval",
    "http": "http-request",
    "template": "template-transform",
    "if": "if-else",
}
_PLACEHOLDER = re.compile(r"\{\{\s*#?([\w.]+?)#?\s*\}\}")


@dataclass(frozen=True)
class NodeSpec:
    node_id: str
    title: str
    node_type: str


@dataclass(frozen=True)
class WorkflowSpec:
    outputs: Mapping[str, str]
    duration_s: float
    nodes: tuple[NodeSpec, ...]
    tokens: int
    price_per_1k_tokens: float
    currency: str
    fail_message: str | None
    fail_index: int  # 1-based index of the node that fails
    version: str
    workflow_id: str

    @property
    def llm_indexes(self) -> tuple[int, ...]:
        return tuple(i for i, node in enumerate(self.nodes, start=1) if node.node_type == "llm")

    def node_tokens(self, index: int) -> int:
        """The run's tokens split over the LLM nodes (the first takes the remainder)."""
        llms = self.llm_indexes
        if index not in llms:
            return 0
        share, rest = divmod(self.tokens, len(llms))
        return share + (rest if index == llms[0] else 0)

    def price(self, tokens: int) -> str:
        # Dify sends prices as decimal strings
        return f"{tokens * self.price_per_1k_tokens / 1000:.7f}"

    def metadata(self, tokens: int) -> dict[str, Any]:
        return {"total_tokens": tokens, "total_price": self.price(tokens), "currency": self.currency}


def _guess_type(title: str) -> str:
    lowered = title.lower()
    return next((kind for word, kind in NODE_TYPES.items() if lowered.startswith(word)), "code")


def parse_workflow(config: Mapping[str, Any]) -> WorkflowSpec:
    """The app's `workflow` dict as a spec; ValueError names the bad key (the admin route answers 400)."""
    unknown = set(config) - {
        "outputs",
        "duration_s",
        "nodes",
        "tokens",
        "price_per_1k_tokens",
        "currency",
        "fail_message",
        "fail_node",
        "version",
        "workflow_id",
    }
    if unknown:
        raise ValueError(f"unknown workflow keys: {sorted(unknown)}")
    outputs = config.get("outputs", {"answer": "Echo: {{query}}"})
    if not isinstance(outputs, Mapping) or not all(isinstance(v, str) for v in outputs.values()):
        raise ValueError("workflow.outputs must map names to template strings")
    nodes = []
    for index, item in enumerate(config.get("nodes") or ["Start", "LLM", "End"], start=1):
        title = item if isinstance(item, str) else item.get("title") if isinstance(item, Mapping) else None
        if not title:
            raise ValueError("workflow.nodes items are titles or {title, type}")
        kind = item.get("type") if isinstance(item, Mapping) and item.get("type") else _guess_type(title)
        nodes.append(NodeSpec(node_id=f"{1700000000000 + index}", title=title, node_type=kind))
    fail_node = config.get("fail_node")
    if fail_node is None:
        fail_index = max(len(nodes) - 1, 1)
    else:
        titles = [n.title for n in nodes]
        if fail_node not in titles:
            raise ValueError(f"workflow.fail_node {fail_node!r} is not one of {titles}")
        fail_index = titles.index(fail_node) + 1
    try:
        duration, tokens = float(config.get("duration_s", 0.0)), int(config.get("tokens", 120))
        price = float(config.get("price_per_1k_tokens", 0.002))
    except (TypeError, ValueError):
        raise ValueError("workflow.duration_s, tokens and price_per_1k_tokens must be numbers") from None
    if duration < 0 or tokens < 0:
        raise ValueError("workflow.duration_s and tokens must not be negative")
    return WorkflowSpec(
        outputs=dict(outputs),
        duration_s=duration,
        nodes=tuple(nodes),
        tokens=tokens,
        price_per_1k_tokens=price,
        currency=str(config.get("currency", "USD")),
        fail_message=config.get("fail_message") or None,
        fail_index=fail_index,
        version=str(config.get("version", DEFAULT_VERSION)),
        workflow_id=str(config.get("workflow_id") or uuid.uuid4()),
    )


def render(template: str, inputs: Mapping[str, Any]) -> str:
    """`{{name}}` (or Dify's `{{#name#}}`) replaced by the input's value; unknown or null inputs become ''."""

    def value(match: re.Match) -> str:
        found = inputs.get(match.group(1).split(".")[-1])
        return "" if found is None else str(found)

    return _PLACEHOLDER.sub(value, template)


def render_outputs(spec: WorkflowSpec, inputs: Mapping[str, Any]) -> dict[str, str]:
    return {name: render(template, inputs) for name, template in spec.outputs.items()}


@dataclass(frozen=True)
class Failure:
    message: str
    as_error_event: bool  # True: the run breaks with an `error` event instead of a failed node


def failure_of(spec: WorkflowSpec, inputs: Mapping[str, Any]) -> Failure | None:
    """Why this run will fail, if it will: the app's `fail_message`, or a trigger value among the inputs."""
    if spec.fail_message:
        return Failure(str(spec.fail_message), False)
    node = spec.nodes[spec.fail_index - 1].title
    for key, value in inputs.items():
        if value == FAIL_VALUE:
            return Failure(f"Node {node} run failed: input '{key}' asked the stand-in to fail", False)
        if value == ERROR_VALUE:
            return Failure(f"[stand-in] Error: input '{key}' asked for a provider error in node {node}", True)
    return None


@dataclass(slots=True)
class WorkflowRun:
    """One run, live or seeded. Mutable: the executing thread fills it in; readers hold the store's lock."""

    id: str
    app_id: str
    workflow_id: str
    version: str
    inputs: dict[str, Any]
    created_at: float
    task_id: str = ""
    session_id: str | None = None  # the end user's `user` string; None when an account ran it
    account_email: str | None = None
    created_from: str = "service-api"  # service-api | web-app | installed-app
    triggered_from: str = "app-run"
    status: str = "running"
    outputs: dict[str, Any] | None = None
    error: str | None = None
    elapsed_time: float = 0.0
    total_tokens: int = 0
    total_steps: int = 0
    exceptions_count: int = 0
    finished_at: float | None = None
    seeded: bool = False
    sent_inputs: dict[str, Any] | None = None  # the request's inputs, before Dify's form handling
    nodes: list[dict[str, Any]] | None = None  # node executions as recorded live (seeded runs derive theirs)
    stop_requested: bool = False
    error_event: dict[str, Any] | None = None  # set when the run broke with an `error` stream event


_IDS = uuid.UUID("6f1d1e3a-5c1b-4e8e-9a57-0d1f5a7e2b10")


def derived_id(*parts: str) -> str:
    """A stable UUID for things Dify stores as rows of their own (log rows, end users, node executions)."""
    return str(uuid.uuid5(_IDS, "/".join(parts)))


def end_user_id(app_id: str, session_id: str) -> str:
    return derived_id("end-user", app_id, session_id)


def _node_record(run: WorkflowRun, spec: WorkflowSpec, index: int, started: float) -> dict[str, Any]:
    node = spec.nodes[index - 1]
    return {
        "id": derived_id("node", run.id, str(index)),
        "index": index,
        "predecessor_node_id": spec.nodes[index - 2].node_id if index > 1 else None,
        "node_id": node.node_id,
        "node_type": node.node_type,
        "title": node.title,
        "inputs": dict(run.inputs) if node.node_type == "start" else {},
        "created_at": int(started),
    }


def _finish_node(
    record: dict[str, Any], run: WorkflowRun, spec: WorkflowSpec, *, status: str, error: str | None, elapsed: float
) -> None:
    index = record["index"]
    last = index == len(spec.nodes)
    tokens = spec.node_tokens(index) if status == "succeeded" else 0
    record.update(
        process_data={},
        outputs=(run.outputs or {}) if last and status == "succeeded" else {},
        status=status,
        error=error,
        elapsed_time=elapsed,
        execution_metadata=spec.metadata(tokens),  # every node reports usage; only LLM nodes have any
        extras={},
        finished_at=int(record["created_at"] + elapsed),
    )


def execute(
    run: WorkflowRun,
    spec: WorkflowSpec,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> Iterator[dict[str, Any]]:
    """Run the workflow, yielding stream events (`{"event", "data"}`) and filling in `run` as it goes.

    The run ends `succeeded`, `failed` (a node failed: a result, not an error), `stopped` (`stop_requested` was
    seen between sleeps) or `failed` with `error_event` set (the stream's `error` event). The output's text is
    streamed (`text_chunk`, tagged with the `node_type` that made it) inside the node before End.
    """
    failure = failure_of(spec, run.inputs)
    producer = max(len(spec.nodes) - 1, 1)  # the node before End
    run.nodes = []
    started = clock()
    per_node = spec.duration_s / max(len(spec.nodes), 1)
    for index in range(1, len(spec.nodes) + 1):
        node_started = clock()
        record = _node_record(run, spec, index, node_started)
        run.nodes.append(record)
        yield {"event": "node_started", "data": dict(record)}
        deadline = node_started + per_node
        while not run.stop_requested and clock() < deadline:
            sleep(min(0.05, max(deadline - clock(), 0.0)))
        if run.stop_requested:
            _finish_node(record, run, spec, status="stopped", error=STOPPED_ERROR, elapsed=clock() - node_started)
            run.status, run.error = "stopped", STOPPED_ERROR
            break
        run.total_steps = index
        if failure is not None and index == spec.fail_index:
            _finish_node(record, run, spec, status="failed", error=failure.message, elapsed=clock() - node_started)
            run.status, run.error = "failed", failure.message
            if failure.as_error_event:
                run.error_event = {"status": 400, "code": "completion_request_error", "message": failure.message}
            else:
                yield {"event": "node_finished", "data": dict(record)}
            break
        if index == len(spec.nodes):
            run.outputs = render_outputs(spec, run.inputs)
        _finish_node(record, run, spec, status="succeeded", error=None, elapsed=clock() - node_started)
        run.total_tokens += spec.node_tokens(index)
        if index == producer:  # the End node's text streams from the node that makes it (Dify >= 1.9)
            for text in render_outputs(spec, run.inputs).values():
                for chunk in _chunks(text):
                    yield {
                        "event": "text_chunk",
                        "data": {"text": chunk, "from_variable_selector": [record["node_id"], "text"]},
                        "node_type": record["node_type"],
                    }
        yield {"event": "node_finished", "data": dict(record)}
    else:
        run.status = "succeeded"
    run.finished_at = clock()
    run.elapsed_time = round(run.finished_at - started, 6)


def _chunks(text: str, words: int = 4) -> list[str]:
    """Streamed text arrives in pieces; joining them gives the output back exactly."""
    parts = re.findall(r"\S+\s*|\s+", text)
    return ["".join(parts[i : i + words]) for i in range(0, len(parts), words)] or [""]


def derive_nodes(run: WorkflowRun, spec: WorkflowSpec) -> list[dict[str, Any]]:
    """Node executions of a seeded run, consistent with it: `total_steps` nodes, the last one failed or stopped
    when the run was, tokens and time spread as a live run spreads them. Derived on demand, so 100,000 seeded
    runs cost no memory for their nodes."""
    steps = max(1, min(run.total_steps or len(spec.nodes), len(spec.nodes)))
    per_node = run.elapsed_time / steps
    llm_steps = [i for i in spec.llm_indexes if i <= steps] or [0]
    records = []
    for index in range(1, steps + 1):
        record = _node_record(run, spec, index, run.created_at + per_node * (index - 1))
        ended = index == steps and run.status in ("failed", "stopped")
        status = run.status if ended else "succeeded"
        _finish_node(record, run, spec, status=status, error=run.error if ended else None, elapsed=per_node)
        if spec.nodes[index - 1].node_type == "llm":
            share, rest = divmod(run.total_tokens, len(llm_steps))
            tokens = share + (rest if index == llm_steps[0] else 0)
            record["execution_metadata"] = spec.metadata(tokens)
        records.append(record)
    return records
