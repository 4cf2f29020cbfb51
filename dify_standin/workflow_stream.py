"""The streaming answer of a workflow run: Dify's SSE framing, relayed from the run's own thread.

Events are `data: {json}\\n\\n`, keep-alives `event: ping\\n\\n` after `ping` seconds without an event, and each
event's `data` is rendered for the version (`workflow_shapes`). From 1.13.0 the stream opens with a ping (the run
starts in a Celery worker); a run whose inputs the worker refuses never sends anything after that ping, so the
stream stalls (recorded on 1.13.2: no further byte for 20 s) until the client gives up or the worker's
`APP_MAX_EXECUTION_TIME` (1200 s) ends it. A client that goes away does not end a run; the stop route does.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator

from flask import Response, stream_with_context

from dify_standin import workflow_engine, workflow_shapes
from dify_standin.versions import Behaviour
from dify_standin.workflow_engine import WorkflowRun
from dify_standin.workflow_store import WorkflowApp

PING = "event: ping\n\n"
STALL_SECONDS = 1200.0  # APP_MAX_EXECUTION_TIME


def _sse(payload: dict) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def stream_response(
    run: WorkflowRun, app: WorkflowApp, finish: Callable[[], None], behaviour: Behaviour, ping: float
) -> Response:
    return Response(stream_with_context(_events(run, app, finish, behaviour, ping)), mimetype="text/event-stream")


def stalled_response() -> Response:
    """One ping, then silence: what 1.13's API answers while its worker has failed on the inputs."""

    def silence() -> Iterator[str]:
        yield PING
        time.sleep(STALL_SECONDS)

    return Response(stream_with_context(silence()), mimetype="text/event-stream")


def _render(event: dict, run: WorkflowRun, behaviour: Behaviour) -> dict | None:
    """An engine event as the version sends it, or None when the version sends no such event."""
    name, data = event["event"], event["data"]
    if name == "node_started":
        return workflow_shapes.node_started_json(data, behaviour)
    if name == "node_finished":
        return workflow_shapes.node_finished_json(data, run, behaviour)
    if name == "text_chunk" and not behaviour.new_graph_engine and event.get("node_type") != "llm":
        return None  # before 1.9 only an LLM's output streamed; one copied from the inputs did not
    return data


def _events(
    run: WorkflowRun, app: WorkflowApp, finish: Callable[[], None], behaviour: Behaviour, ping: float
) -> Iterator[str]:
    ids = {"task_id": run.task_id, "workflow_run_id": run.id}
    events: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            for event in workflow_engine.execute(run, app.spec, clock=time.time, sleep=time.sleep):
                events.put(event)
        finally:
            finish()
            events.put(None)

    if behaviour.stream_via_worker:
        yield PING
    yield _sse({"event": "workflow_started", **ids, "data": workflow_shapes.started_json(run, behaviour)})
    threading.Thread(target=work, name=f"run-{run.id}", daemon=True).start()
    while True:
        try:
            event = events.get(timeout=ping)
        except queue.Empty:
            yield PING
            continue
        if event is None:
            break
        data = _render(event, run, behaviour)
        if data is not None:
            yield _sse({"event": event["event"], **ids, "data": data})
    if run.error_event:
        yield _sse({"event": "error", **ids, **run.error_event})
    else:
        yield _sse({"event": "workflow_finished", **ids, "data": workflow_shapes.finished_json(run, behaviour)})
