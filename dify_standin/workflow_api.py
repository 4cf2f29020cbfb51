"""The workflow-app part of Dify's service API (app keys): info, parameters, run, stop, run detail, logs.

A failed workflow still answers HTTP 200 with `status: failed` (blocking) or a `workflow_finished` event
carrying it (streaming); HTTP errors are request problems (400), the app's concurrency limit (429) or an error
raised outside the graph (blocking: 400 `completion_request_error`; streaming: an `error` event). A streaming
run executes in its own thread, as in Dify: a client that goes away does not end it, the stop route does.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator

from flask import Blueprint, Response, current_app, g, jsonify, request, stream_with_context

from dify_standin import workflow_engine
from dify_standin.errors import DifyHTTPError, invalid_param, not_found
from dify_standin.workflow_engine import WorkflowRun
from dify_standin.workflow_inputs import prepare_inputs
from dify_standin.workflow_logs import log_json, parse_log_query, select_logs
from dify_standin.workflow_store import WorkflowApp, WorkflowStore

bp = Blueprint("workflows", __name__, url_prefix="/v1")

RUN_DETAIL_KEYS = (
    "id",
    "workflow_id",
    "status",
    "inputs",
    "outputs",
    "error",
    "total_steps",
    "total_tokens",
    "created_at",
    "finished_at",
    "elapsed_time",
)


def _store() -> WorkflowStore:
    return current_app.config["WORKFLOWS"]


def _app() -> WorkflowApp:
    with _store().lock:
        app = _store().apps.get(g.app_id)
    if app is None:  # the key outlived its app
        raise DifyHTTPError(403, "forbidden", "App unavailable, please check your app configurations.")
    return app


@bp.get("/info")
def info():
    app = _app()
    return jsonify(
        {"name": app.name, "description": app.description, "tags": [], "mode": "workflow", "author_name": "Owner"}
    )


@bp.get("/parameters")
def parameters():
    disabled = {"enabled": False}
    return jsonify(
        {
            "opening_statement": "",
            "suggested_questions": [],
            "suggested_questions_after_answer": disabled,
            "speech_to_text": disabled,
            "text_to_speech": disabled,
            "retriever_resource": disabled,
            "annotation_reply": disabled,
            "more_like_this": disabled,
            "sensitive_word_avoidance": disabled,
            "user_input_form": _app().user_input_form,
            "file_upload": {"image": {"enabled": False}},
            "system_parameters": {
                "file_size_limit": 15,
                "image_file_size_limit": 10,
                "audio_file_size_limit": 50,
                "video_file_size_limit": 100,
                "workflow_file_upload_limit": 10,
            },
        }
    )


def _user(body: dict) -> str:
    """`validate_app_token(fetch_user_arg=..., required=True)`: checked before the body itself."""
    user = body.get("user")
    if not user:
        raise invalid_param("Arg user must be provided.")
    return str(user)


def _start(app: WorkflowApp, workflow_id: str | None, sent: dict, user: str) -> WorkflowRun:
    if workflow_id is not None and workflow_id != app.spec.workflow_id:
        raise not_found(f"Workflow not found with id: {workflow_id}")
    try:
        inputs = prepare_inputs(app.user_input_form, sent)
    except ValueError as exc:
        raise invalid_param(str(exc)) from None
    except TypeError:
        raise DifyHTTPError(500, "internal_server_error", "Internal Server Error") from None
    store = _store()
    with store.lock:
        if app.max_active and app.active >= app.max_active:
            raise DifyHTTPError(
                429,
                "too_many_requests",
                "Too many requests. Please try again later. "
                f"The current maximum concurrent requests allowed for {app.id} is {app.max_active}.",
            )
        app.active += 1
        run = WorkflowRun(
            id=str(uuid.uuid4()),
            app_id=app.id,
            workflow_id=app.spec.workflow_id,
            version=app.spec.version,
            inputs=inputs,
            created_at=time.time(),
            task_id=str(uuid.uuid4()),
            session_id=user,
            sent_inputs=dict(sent),
        )
        store.start_run(run)
    return run


def _finisher(store: WorkflowStore, app: WorkflowApp, run: WorkflowRun) -> Callable[[], None]:
    def finish() -> None:
        with store.lock:
            app.active -= 1
            store.add_runs([run])

    return finish


@bp.post("/workflows/run")
@bp.post("/workflows/<workflow_id>/run")
def run_workflow(workflow_id: str | None = None):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise invalid_param("Invalid JSON body")
    user = _user(body)
    mode = body.get("response_mode") or "blocking"
    if mode not in ("blocking", "streaming"):
        raise invalid_param("response_mode: Input should be 'blocking' or 'streaming'")
    sent = body.get("inputs")
    if not isinstance(sent, dict):
        raise invalid_param(
            "inputs: Input should be a valid dictionary" if "inputs" in body else "inputs: Field required"
        )
    app = _app()
    run = _start(app, workflow_id, sent, user)
    finish = _finisher(_store(), app, run)
    if mode == "streaming":
        ping = float(current_app.config["OPTIONS"].ping_seconds)
        index_is_one = current_app.config["BEHAVIOUR"].stream_node_index_is_one
        return Response(
            stream_with_context(_stream(run, app, finish, ping, index_is_one)), mimetype="text/event-stream"
        )
    try:
        for _event in workflow_engine.execute(run, app.spec, clock=time.time, sleep=time.sleep):
            pass
    finally:
        finish()
    if run.error_event:
        raise DifyHTTPError(run.error_event["status"], run.error_event["code"], run.error_event["message"])
    return jsonify({"task_id": run.task_id, "workflow_run_id": run.id, "data": run.finish_json()})


def _sse(payload: dict) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def _stream(
    run: WorkflowRun, app: WorkflowApp, finish: Callable[[], None], ping: float, index_is_one: bool
) -> Iterator[str]:
    """Relay the run's events from its thread; `event: ping` whenever nothing happened for `ping` seconds.

    With `index_is_one` (Dify >= 1.9, see versions.py) node events carry `index: 1` whatever the node's place, as
    real Dify streams them; the stored node executions (console route) keep their real order.
    """
    ids = {"task_id": run.task_id, "workflow_run_id": run.id}
    events: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            for event in workflow_engine.execute(run, app.spec, clock=time.time, sleep=time.sleep):
                events.put(event)
        finally:
            finish()
            events.put(None)

    started = {"id": run.id, "workflow_id": run.workflow_id, "inputs": run.inputs, "created_at": int(run.created_at)}
    yield _sse({"event": "workflow_started", **ids, "data": started})
    threading.Thread(target=work, name=f"run-{run.id}", daemon=True).start()
    while True:
        try:
            event = events.get(timeout=ping)
        except queue.Empty:
            yield "event: ping\n\n"
            continue
        if event is None:
            break
        data = event["data"]
        if index_is_one and "index" in data:
            data = {**data, "index": 1}
        yield _sse({"event": event["event"], **ids, "data": data})
    if run.error_event:
        yield _sse({"event": "error", **ids, **run.error_event})
    else:
        yield _sse({"event": "workflow_finished", **ids, "data": run.finish_json()})


@bp.post("/workflows/tasks/<task_id>/stop")
def stop_task(task_id: str):
    """Dify sets a stop flag only for the task's own user (`AppQueueManager.set_stop_flag`); otherwise, and for
    unknown tasks, it silently does nothing: the answer is always success."""
    user = _user(request.get_json(silent=True) or {})
    store = _store()
    with store.lock:
        run = store.runs.get(store.tasks.get(task_id, ""))
        if run is not None and run.app_id == g.app_id and run.session_id == user:
            run.stop_requested = True
    return jsonify({"result": "success"})


@bp.get("/workflows/run/<run_id>")
def run_detail(run_id: str):
    store = _store()
    with store.lock:
        run = store.runs.get(run_id)
        if run is None or run.app_id != g.app_id:
            if current_app.config["BEHAVIOUR"].run_detail_404:
                raise not_found("Workflow run not found.")
            return jsonify(dict.fromkeys(RUN_DETAIL_KEYS))
        data = run.finish_json()
        data["inputs"] = json.dumps(run.inputs)  # WorkflowRun.inputs is a JSON text column, marshalled raw
        data["outputs"] = run.outputs or {}
    return jsonify({key: data[key] for key in RUN_DETAIL_KEYS})


@bp.get("/workflows/logs")
def workflow_logs():
    try:
        query = parse_log_query(request.args)
    except ValueError as exc:
        raise invalid_param(str(exc)) from None
    store = _store()
    with store.lock:
        total, runs = select_logs(store, g.app_id, query)
        data = [log_json(run) for run in runs]
    return jsonify(
        {
            "page": query.page,
            "limit": query.limit,
            "total": total,
            "has_more": total > query.page * query.limit,
            "data": data,
        }
    )
