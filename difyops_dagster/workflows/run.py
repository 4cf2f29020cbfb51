"""Running a workflow app once: streaming (progress as it happens) or blocking, with a timeout and a stop.

What may be retried: only a failure *before* Dify accepted the run (transport errors, 429, 5xx on the
request itself). Once a task id exists the workflow may be running or have run: a failure then is final, so a
workflow is never silently run twice. A stop (timeout, or the Dagster run being terminated) stops the Dify task.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from difyops_dagster.dify.client import DifyAppClient
from difyops_dagster.dify.models import WorkflowRun


class WorkflowTimeout(Exception):
    pass


@dataclass
class RunProgress:
    """What is known so far; kept outside the call so an interrupt handler can stop the task."""

    task_id: str | None = None
    workflow_run_id: str | None = None
    nodes_finished: int = 0
    text: list[str] = field(default_factory=list)


def run_workflow(
    client: DifyAppClient,
    inputs: Mapping[str, Any],
    *,
    user: str,
    streaming: bool,
    timeout_s: float,
    progress: RunProgress,
    log: Callable[[str], Any],
    clock: Callable[[], float] = time.monotonic,
) -> WorkflowRun:
    if not streaming:
        result = client.run_workflow(inputs, user)
        progress.task_id, progress.workflow_run_id = result.task_id, result.workflow_run_id
        return result.run
    deadline = clock() + timeout_s
    for event in client.stream_workflow(inputs, user):
        progress.task_id = progress.task_id or event.task_id
        progress.workflow_run_id = progress.workflow_run_id or event.workflow_run_id
        if event.event == "workflow_started":
            log(f"Dify run {progress.workflow_run_id} started (task {progress.task_id})")
        elif event.event == "node_started":
            log(f"node {event.data.get('index')} '{event.data.get('title')}' started")
        elif event.event == "node_finished":
            progress.nodes_finished += 1
            status = event.data.get("status")
            log(f"node '{event.data.get('title')}' {status} in {float(event.data.get('elapsed_time') or 0):.2f}s")
        elif event.event == "text_chunk":
            progress.text.append(str(event.data.get("text") or ""))
        elif event.event == "workflow_finished":
            return WorkflowRun.from_json(event.data)
        if clock() > deadline:
            raise WorkflowTimeout(f"the workflow ran longer than {timeout_s:.0f}s")
    raise WorkflowTimeout("the event stream ended without workflow_finished")
