"""A finished run as metadata a person reads: status, outputs as Markdown and JSON, time, tokens, steps. Pure."""

from __future__ import annotations

import json
from typing import Any

from difyops_dagster.dify.models import WorkflowRun

MAX_VALUE_CHARS = 4000


def outputs_markdown(run: WorkflowRun) -> str:
    lines = [
        f"**Status:** {run.status} · {run.elapsed_time:.2f}s · {run.total_tokens} tokens · {run.total_steps} steps",
        "",
    ]
    if run.error:
        lines += ["**Error:**", "", f"> {run.error}", ""]
    for name, value in (run.outputs or {}).items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)
        if len(text) > MAX_VALUE_CHARS:
            text = text[:MAX_VALUE_CHARS] + " …"
        lines += [f"### {name}", "", text, ""]
    return "\n".join(lines).strip() + "\n"


def run_metadata(run: WorkflowRun, task_id: str | None) -> dict[str, Any]:
    return {
        "status": run.status,
        "workflow_run_id": run.id,
        "task_id": task_id or "",
        "elapsed_s": round(run.elapsed_time, 3),
        "total_tokens": run.total_tokens,
        "total_steps": run.total_steps,
    }
