"""The workflow-app part of Dify's service API (app keys): info, parameters, run, stop, run detail, logs.

A failed workflow still answers HTTP 200 with `status: failed` (blocking) or a `workflow_finished` event
carrying it (streaming); HTTP errors are request problems (400), the app's concurrency limit (429) or an error
raised outside the graph (blocking: 400 `completion_request_error`; streaming: an `error` event). A streaming
run executes in its own thread, as in Dify: a client that goes away does not end it, the stop route does.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from email.utils import formatdate

from flask import Blueprint, Response, current_app, g, jsonify, request

from dify_standin import workflow_engine, workflow_shapes
from dify_standin.errors import DifyCrash, DifyHTTPError, invalid_param, not_found
from dify_standin.state import OWNER_NAME
from dify_standin.validation import MISSING_IN_JSON, WorkflowRunPayload, check_body, check_log_query
from dify_standin.versions import Behaviour
from dify_standin.workflow_engine import WorkflowRun
from dify_standin.workflow_inputs import prepare_inputs
from dify_standin.workflow_logs import log_json, parse_log_query, select_logs
from dify_standin.workflow_store import WorkflowApp, WorkflowStore
from dify_standin.workflow_stream import stalled_response, stream_response

bp = Blueprint("workflows", __name__, url_prefix="/v1")

UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
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
        {"name": app.name, "description": app.description, "tags": [], "mode": "workflow", "author_name": OWNER_NAME}
    )


@bp.get("/parameters")
def parameters():
    disabled = {"enabled": False}
    return jsonify(
        {
            "opening_statement": None,
            "suggested_questions": [],
            "suggested_questions_after_answer": disabled,
            "speech_to_text": disabled,
            "text_to_speech": {"enabled": False, "voice": "", "language": ""},
            "retriever_resource": disabled,
            "annotation_reply": disabled,
            "more_like_this": disabled,
            "sensitive_word_avoidance": disabled,
            "user_input_form": _app().user_input_form,
            "file_upload": {},
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


class InputRefused(ValueError):
    """Dify's form check refused the inputs (400 `invalid_param`, or a stalled stream from 1.13.0)."""


def _start(app: WorkflowApp, workflow_id: str | None, sent: dict, user: str) -> WorkflowRun:
    if workflow_id is not None and workflow_id != app.spec.workflow_id:
        raise not_found(f"Workflow not found with id: {workflow_id}")
    try:
        inputs = prepare_inputs(app.user_input_form, sent)
    except ValueError as exc:
        raise InputRefused(str(exc)) from None
    except TypeError:
        raise DifyCrash from None
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
    behaviour = current_app.config["BEHAVIOUR"]
    check_body(behaviour, WorkflowRunPayload, body, "inputs", restful=MISSING_IN_JSON)
    mode = body.get("response_mode") or "blocking"
    if mode not in ("blocking", "streaming"):
        raise invalid_param("response_mode: Input should be 'blocking' or 'streaming'")
    sent = body.get("inputs")
    if not isinstance(sent, dict):
        raise invalid_param("inputs: Input should be a valid dictionary")
    app = _app()
    try:
        run = _start(app, workflow_id, sent, user)
    except InputRefused as refused:
        if mode == "streaming" and behaviour.stream_via_worker:
            return stalled_response()
        raise invalid_param(str(refused)) from None
    finish = _finisher(_store(), app, run)
    if mode == "streaming":
        ping = float(current_app.config["OPTIONS"].ping_seconds)
        return stream_response(run, app, finish, behaviour, ping)
    try:
        for _event in workflow_engine.execute(run, app.spec, clock=time.time, sleep=time.sleep):
            pass
    finally:
        finish()
    if run.error_event:
        raise DifyHTTPError(run.error_event["status"], run.error_event["code"], run.error_event["message"])
    body = {"task_id": run.task_id, "workflow_run_id": run.id, "data": workflow_shapes.blocking_json(run, behaviour)}
    content_type = "application/json; charset=utf-8" if behaviour.app_fields_1_10 else "application/json"
    return Response(json.dumps(body, ensure_ascii=False), content_type=content_type)


@bp.post("/workflows/tasks/<task_id>/stop")
def stop_task(task_id: str):
    """Up to 1.8 Dify sets a stop flag only for the task's own user (`AppQueueManager.set_stop_flag` checks it;
    recorded on 1.7.2: another user's stop is ignored), from 1.9.0 for any user of the app (§10); otherwise, and
    for unknown tasks, it silently does nothing: the answer is always success."""
    user = _user(request.get_json(silent=True) or {})
    any_user = current_app.config["BEHAVIOUR"].stop_by_any_user
    store = _store()
    with store.lock:
        run = store.runs.get(store.tasks.get(task_id, ""))
        if run is not None and run.app_id == g.app_id and (any_user or run.session_id == user):
            run.stop_requested = True
    return jsonify({"result": "success"})


@bp.get("/workflows/run/<run_id>")
def run_detail(run_id: str):
    """`WorkflowRunDetailApi`: the run row marshalled with `workflow_run_fields` (versions.py has each boundary).

    A non-UUID id crashes the PostgreSQL lookup (500 on every recorded version); an unknown one is 200 with
    every field null up to 1.12 (flask-restful's `Integer` makes the counts 0 before 1.8.0), 500 on 1.13.0 and
    404 from 1.13.1. `inputs` is the raw JSON text column; `outputs` too before 1.13.0, then its dict."""
    behaviour = current_app.config["BEHAVIOUR"]
    store = _store()
    with store.lock:
        run = store.runs.get(run_id)
        if run is None or run.app_id != g.app_id:
            if not UUID_TEXT.fullmatch(run_id):  # a seeded run may have any id; Dify's are always UUIDs
                raise DifyCrash
            return _unknown_run(behaviour)
        data = {
            "id": run.id,
            "workflow_id": run.workflow_id,
            "status": run.status,
            "inputs": json.dumps(workflow_shapes.sys_inputs(run, timestamp=behaviour.app_fields_1_10)),
            "outputs": (run.outputs or {}) if behaviour.run_outputs_as_object else _json_text(run.outputs),
            "error": run.error,
            "total_steps": run.total_steps,
            "total_tokens": run.total_tokens,
            "created_at": int(run.created_at),
            "finished_at": int(run.finished_at) if run.finished_at is not None else None,
            "elapsed_time": run.elapsed_time,
        }
        if behaviour.run_timestamps_as_strings:
            data["created_at"] = rfc822(run.created_at)
            data["finished_at"] = rfc822(run.finished_at)
    return jsonify({key: data[key] for key in RUN_DETAIL_KEYS})


def _unknown_run(behaviour: Behaviour) -> Response:
    if behaviour.unknown_run == "404":
        raise not_found("Workflow run not found.")
    if behaviour.unknown_run == "500":
        raise DifyCrash
    body = dict.fromkeys(RUN_DETAIL_KEYS)
    if not behaviour.restx:
        body.update(total_steps=0, total_tokens=0)  # flask-restful's fields.Integer(default=0)
    return jsonify(body)


def _json_text(value: object) -> str | None:
    """How the text column holds it: `json.dumps` of the outputs (null while the run has none)."""
    return None if value is None else json.dumps(value)


def rfc822(moment: float | None) -> str | None:
    """flask-restful's `fields.DateTime` (1.0-1.1): RFC 822 in UTC, e.g. `Thu, 03 Dec 2026 17:20:00 -0000`."""
    return None if moment is None else formatdate(moment)


@bp.get("/workflows/logs")
def workflow_logs():
    behaviour = current_app.config["BEHAVIOUR"]
    args = request.args.to_dict(flat=True)
    check_log_query(behaviour, args)
    try:
        query = parse_log_query(args, created_by_filters=behaviour.logs_created_by_filters)
    except ValueError as exc:
        raise invalid_param(str(exc)) from None
    store = _store()
    with store.lock:
        total, runs = select_logs(store, g.app_id, query)
        data = [log_json(run, behaviour) for run in runs]
    return jsonify(
        {
            "page": query.page,
            "limit": query.limit,
            "total": total,
            "has_more": total > query.page * query.limit,
            "data": data,
        }
    )
