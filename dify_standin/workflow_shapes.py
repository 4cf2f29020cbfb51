"""How each Dify version renders a workflow run: stream events, the blocking answer, console node executions.

Pure: takes the engine's run and node records (`workflow_engine`) and a `Behaviour`, returns the JSON. The shapes
are the recorded ones (shared/dify-recordings/<version>/workflow_run_*, console_node_executions*):

| what | < 1.9.0 | 1.9.0-1.9.1 | 1.9.2-1.9.x | >= 1.10.0 | >= 1.13.0 |
|---|---|---|---|---|---|
| `event: ping` before the first event | - | - | - | - | yes |
| `workflow_started.data.reason` | - | - | - | - | `initial` |
| node events' `parallel_*` keys | yes | yes | - | - | - |
| node events' `*_truncated` keys, `process_data` `{}` (else null) | - | yes | yes | yes | yes |
| `execution_metadata` of a node without usage | `{}` | `{}` | null (stream) | null (stream) | null (stream) |
| stream `index` / `predecessor_node_id` | 1, 2 / previous node | 1 for all / null | as 1.9.1 | as 1.9.1 | as 1.9.1 |
| console `index`, order | 1, 2, newest first | 1 for all, oldest first | 1, 2, oldest first | as 1.9.2 | as 1.9.2 |
| `text_chunk` of an output copied from an input | - | yes, inside the node that makes it | yes | yes | yes |
| `sys.timestamp` among the Start node's inputs | - | - | - | yes | yes |
| run `error` when there is none | `""` | `""` | null | null | null |
| end user `type` | `service_api` | `service_api` | `service_api` | `service-api` | `service-api` |

The boundaries come from the recordings (1.7.2, 1.9.1, 1.9.2, 1.11.1, 1.11.2, 1.13.2): 1.9.0 is Dify's new graph
engine (the queue-based `GraphEngine`), the rest are taken at the first release after the last recording without
the change (versions.py).
"""

from __future__ import annotations

from typing import Any

from dify_standin.versions import Behaviour
from dify_standin.workflow_engine import WorkflowRun, end_user_id

PARALLEL_KEYS = ("parallel_id", "parallel_start_node_id", "parent_parallel_id", "parent_parallel_start_node_id")


def sys_inputs(run: WorkflowRun, *, timestamp: bool) -> dict[str, Any]:
    """The user's inputs followed by the system variables Dify adds (`sys.timestamp` only where asked)."""
    values: dict[str, Any] = dict(run.inputs)
    values.update(
        {
            "sys.files": [],
            "sys.user_id": run.session_id or "",
            "sys.app_id": run.app_id,
            "sys.workflow_id": run.workflow_id,
            "sys.workflow_run_id": run.id,
        }
    )
    if timestamp:
        values["sys.timestamp"] = int(run.created_at)
    return values


def run_error(run: WorkflowRun, behaviour: Behaviour) -> str | None:
    return run.error if run.error is not None or behaviour.graph_engine_fixes else ""


def started_json(run: WorkflowRun, behaviour: Behaviour) -> dict[str, Any]:
    data = {
        "id": run.id,
        "workflow_id": run.workflow_id,
        "inputs": sys_inputs(run, timestamp=False),
        "created_at": int(run.created_at),
    }
    if behaviour.stream_via_worker:
        data["reason"] = "initial"
    return data


def blocking_json(run: WorkflowRun, behaviour: Behaviour) -> dict[str, Any]:
    """`data` of the blocking answer: the run without `created_by`, `exceptions_count`, `files` (recorded)."""
    data = finished_json(run, behaviour)
    for key in ("created_by", "exceptions_count", "files"):
        del data[key]
    return data


def finished_json(run: WorkflowRun, behaviour: Behaviour) -> dict[str, Any]:
    """`data` of `workflow_finished`."""
    return {
        "id": run.id,
        "workflow_id": run.workflow_id,
        "status": run.status,
        "outputs": run.outputs,
        "error": run_error(run, behaviour),
        "elapsed_time": run.elapsed_time,
        "total_tokens": run.total_tokens,
        "total_steps": run.total_steps,
        "created_by": {"id": end_user_id(run.app_id, run.session_id or ""), "user": run.session_id},
        "created_at": int(run.created_at),
        "finished_at": int(run.finished_at) if run.finished_at is not None else None,
        "exceptions_count": run.exceptions_count,
        "files": [],
    }


def _node_values(record: dict[str, Any], run: WorkflowRun, behaviour: Behaviour) -> tuple[Any, Any]:
    """A Start node shows the inputs with the system variables as its inputs and outputs (Dify's start node
    passes them through), an End node its outputs as both; other nodes their own."""
    if record["node_type"] == "start":
        values = sys_inputs(run, timestamp=behaviour.app_fields_1_10)
        return values, dict(values)
    outputs = record.get("outputs") or {}
    if record["node_type"] == "end":  # an End node takes in the variables it outputs
        return dict(outputs), outputs
    return record.get("inputs") or {}, outputs


def _usage(record: dict[str, Any], empty: dict | None) -> dict | None:
    """Only nodes that used a model report usage; Dify's other nodes have no metadata."""
    metadata = record.get("execution_metadata") or {}
    return metadata if metadata.get("total_tokens") else empty


def _identity(record: dict[str, Any]) -> dict[str, Any]:
    return {key: record[key] for key in ("id", "node_id", "node_type", "title")}


def _result(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": record.get("status", "running"),
        "error": record.get("error"),
        "elapsed_time": record.get("elapsed_time"),
    }


def _stream_position(record: dict[str, Any], behaviour: Behaviour) -> dict[str, Any]:
    if behaviour.new_graph_engine:
        return {"index": 1, "predecessor_node_id": None}
    return {"index": record["index"], "predecessor_node_id": record["predecessor_node_id"]}


def node_started_json(record: dict[str, Any], behaviour: Behaviour) -> dict[str, Any]:
    data: dict[str, Any] = {**_identity(record), **_stream_position(record, behaviour), "inputs": None}
    if behaviour.new_graph_engine:
        data["inputs_truncated"] = False
    data.update(created_at=record["created_at"], extras={})
    if not behaviour.graph_engine_fixes:
        data.update(dict.fromkeys(PARALLEL_KEYS))
    data.update(iteration_id=None, loop_id=None)
    if not behaviour.graph_engine_fixes:
        data["parallel_run_id"] = None
    data["agent_strategy"] = None
    return data


def node_finished_json(record: dict[str, Any], run: WorkflowRun, behaviour: Behaviour) -> dict[str, Any]:
    inputs, outputs = _node_values(record, run, behaviour)
    engine = behaviour.new_graph_engine
    data: dict[str, Any] = {
        **_identity(record),
        **_stream_position(record, behaviour),
        "inputs": inputs,
        **({"inputs_truncated": False} if engine else {}),
        "process_data": record.get("process_data") or {} if engine else None,
        **({"process_data_truncated": False} if engine else {}),
        "outputs": outputs,
        **({"outputs_truncated": False} if engine else {}),
        **_result(record),
        "execution_metadata": _usage(record, None if behaviour.graph_engine_fixes else {}),
        "created_at": record["created_at"],
        "finished_at": record.get("finished_at"),
        "files": [],
    }
    if not behaviour.graph_engine_fixes:
        data.update(dict.fromkeys(PARALLEL_KEYS))
    data.update(iteration_id=None, loop_id=None)
    return data


def node_executions_json(
    records: list[dict[str, Any]], run: WorkflowRun, behaviour: Behaviour, creator: dict[str, Any]
) -> list[dict[str, Any]]:
    """The console's `workflow_run_node_execution_list_fields`, in the version's order and numbering."""
    engine = behaviour.new_graph_engine
    rendered = []
    for record in records:
        inputs, outputs = _node_values(record, run, behaviour)
        if behaviour.graph_engine_fixes or not engine:
            position = {
                "index": record["index"],
                "predecessor_node_id": None if engine else record["predecessor_node_id"],
            }
        else:
            position = {"index": 1, "predecessor_node_id": None}
        item = {
            **_identity(record),
            **position,
            "inputs": inputs,
            "process_data": record.get("process_data") or {} if engine else None,
            "outputs": outputs,
            **_result(record),
            "execution_metadata": _usage(record, {}),
            "extras": record.get("extras") or {},
            "created_at": record["created_at"],
            **creator,
            "finished_at": record.get("finished_at"),
        }
        if engine:
            item.update(inputs_truncated=False, outputs_truncated=False, process_data_truncated=False)
        rendered.append(item)
    return rendered if engine else rendered[::-1]


def end_user_json(run: WorkflowRun, behaviour: Behaviour) -> dict[str, Any]:
    return {
        "id": end_user_id(run.app_id, run.session_id or ""),
        "type": end_user_type(run, behaviour),
        "is_anonymous": False,
        "session_id": run.session_id,
    }


def end_user_type(run: WorkflowRun, behaviour: Behaviour) -> str:
    if run.created_from != "service-api":
        return "browser"
    return "service-api" if behaviour.app_fields_1_10 else "service_api"
