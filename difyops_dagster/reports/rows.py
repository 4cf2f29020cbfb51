"""The stored form of one workflow-log row: a flat JSON object, one per line, the same for every app and day.

A row joins the log entry (status, error, timings, tokens, version, who ran it) with the optional enrichment
(inputs and outputs from the run detail; from the console's node executions: cost, the prompt/completion token
split, the time spent in model calls, the failing node and one compact record per node). Fields an enrichment
did not provide are null, never invented: the report tells "not fetched" apart from "zero". Rows stored before
a column existed simply lack it and read as null.
Dify's `created_at__after/__before` bounds are both inclusive, so a run stamped exactly at midnight comes back
in two days' queries; `in_window` keeps the half-open `[start, end)` so each run belongs to exactly one day.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from difyops_dagster.dify.console import NodeExecution
from difyops_dagster.dify.models import WorkflowLog, WorkflowRun

COLUMNS = (
    "run_id",
    "log_id",
    "created_at",
    "finished_at",
    "status",
    "error",
    "version",
    "elapsed_time",
    "total_tokens",
    "total_steps",
    "exceptions_count",
    "created_from",
    "user",
    "user_kind",
    "inputs",
    "outputs",
    "cost",
    "currency",
    "nodes",
    "prompt_tokens",
    "completion_tokens",
    "llm_seconds",
    "failing_node",
    "node_runs",
)
FAILED_NODE_STATUSES = ("failed", "exception")  # `exception`: failed, and the workflow went on by its fail branch


def row_from_log(log: WorkflowLog) -> dict[str, Any]:
    """The log entry alone; the enrichment columns stay null until enriched."""
    if log.account_email:
        user, kind = log.account_email, "account"
    elif log.end_user_session_id:
        user, kind = log.end_user_session_id, "end_user"
    else:
        user, kind = "(unknown)", None
    return {
        "run_id": log.run_id,
        "log_id": log.id,
        "created_at": log.created_at,
        "finished_at": log.finished_at,
        "status": log.status,
        "error": log.error,
        "version": log.version,
        "elapsed_time": log.elapsed_time,
        "total_tokens": log.total_tokens,
        "total_steps": log.total_steps,
        "exceptions_count": log.exceptions_count,
        "created_from": log.created_from,
        "user": user,
        "user_kind": kind,
        **dict.fromkeys(COLUMNS[COLUMNS.index("inputs") :]),
    }


def with_run_detail(row: dict[str, Any], run: WorkflowRun | None) -> dict[str, Any]:
    """Inputs and outputs from the run detail; the log's error is kept when the detail has none."""
    if run is None:
        return row
    return {**row, "inputs": run.inputs, "outputs": run.outputs, "error": row["error"] or run.error}


def with_node_executions(row: dict[str, Any], nodes: list[NodeExecution]) -> dict[str, Any]:
    """Cost is the sum of the nodes' `total_price` (Dify prices each model call; other nodes cost 0). The token
    split and the model time come from the nodes that report model usage; none of them: null, not zero."""
    currencies = {n.currency for n in nodes if n.currency}
    models = [n for n in nodes if n.prompt_tokens is not None or n.completion_tokens is not None]
    failing = next((n.title for n in nodes if n.status in FAILED_NODE_STATUSES), None)
    return {
        **row,
        "cost": round(sum(n.total_price for n in nodes), 10),
        "currency": currencies.pop() if len(currencies) == 1 else (None if not currencies else "mixed"),
        "nodes": len(nodes),
        "prompt_tokens": sum(n.prompt_tokens or 0 for n in models) if models else None,
        "completion_tokens": sum(n.completion_tokens or 0 for n in models) if models else None,
        "llm_seconds": round(sum(n.elapsed_time for n in models), 6) if models else None,
        "failing_node": failing,
        "node_runs": [
            {
                "title": n.title,
                "type": n.node_type,
                "status": n.status,
                "elapsed_s": round(n.elapsed_time, 6),
                "tokens": n.total_tokens,
                "cost": round(n.total_price, 10),
            }
            for n in nodes
        ],
    }


def in_window(created_at: int, start: int, end: int) -> bool:
    return start <= created_at < end


def encode_rows(rows: Iterable[dict[str, Any]]) -> bytes:
    """JSON lines, UTF-8, non-ASCII kept readable (Chinese inputs stay Chinese)."""
    return b"".join(json.dumps(row, ensure_ascii=False, sort_keys=True).encode() + b"\n" for row in rows)


def decode_rows(data: bytes) -> Iterator[dict[str, Any]]:
    for line in data.splitlines():
        if line.strip():
            yield json.loads(line)
