"""The workflow-app part of Dify's service API (app keys): info, parameters, run, stop, run detail, logs.

A failed workflow still answers HTTP 200 with `status: failed` (blocking) or a `workflow_finished` event
carrying it (streaming); HTTP errors are request problems. Logs are kept sorted by time so that a day's window
out of 100,000 rows is two bisections.
"""

from __future__ import annotations

import bisect
import json
import queue
import threading
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, g, jsonify, request, stream_with_context

from dify_standin import workflow_engine
from dify_standin.errors import DifyHTTPError, invalid_param, not_found
from dify_standin.state import App, Run, Store, new_id

bp = Blueprint("workflows", __name__, url_prefix="/v1")

LOG_STATUSES = ("succeeded", "failed", "stopped")


def _store() -> Store:
    return current_app.config["STORE"]


def _app() -> App:
    return _store().apps[g.app_id]


@bp.get("/info")
def info():
    app = _app()
    return jsonify(
        {
            "name": app.name,
            "description": app.description,
            "tags": [],
            "mode": "workflow",
            "author_name": "Stand-in Owner",
        }
    )


@bp.get("/parameters")
def parameters():
    app = _app()
    return jsonify(
        {
            "opening_statement": "",
            "suggested_questions": [],
            "suggested_questions_after_answer": {"enabled": False},
            "speech_to_text": {"enabled": False},
            "text_to_speech": {"enabled": False},
            "retriever_resource": {"enabled": False},
            "annotation_reply": {"enabled": False},
            "more_like_this": {"enabled": False},
            "sensitive_word_avoidance": {"enabled": False},
            "user_input_form": app.user_input_form,
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


def _validate_inputs(app: App, inputs: dict) -> None:
    for item in app.user_input_form:
        kind, spec = next(iter(item.items()))
        variable = spec["variable"]
        value = inputs.get(variable)
        if spec.get("required") and (value is None or value == ""):
            raise invalid_param(f"{spec.get('label', variable)} is required in input form")
        if value is None:
            continue
        if kind in ("text-input", "paragraph", "select") and not isinstance(value, str):
            raise invalid_param(f"{variable} in input form must be a string")
        if kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
            try:
                float(value)
            except (TypeError, ValueError):
                raise invalid_param(f"{variable} in input form must be a valid number") from None
        if kind == "select" and value not in spec.get("options", []):
            raise invalid_param(f"{variable} in input form must be one of the following: {spec.get('options')}")
        max_length = spec.get("max_length")
        if max_length and isinstance(value, str) and len(value) > max_length:
            raise invalid_param(f"{variable} in input form must be less than {max_length} characters")


def run_json(run: Run) -> dict:
    return {
        "id": run.id,
        "workflow_id": run.workflow_id,
        "status": run.status,
        "outputs": run.outputs,
        "error": run.error,
        "elapsed_time": run.elapsed_time,
        "total_tokens": run.total_tokens,
        "total_steps": run.total_steps,
        "created_at": int(run.created_at),
        "finished_at": int(run.finished_at) if run.finished_at else None,
        "exceptions_count": 0,
        "files": [],
    }


def _sse(payload: dict) -> str:
    return f"data: {json.dumps(payload)}\n\n"


@bp.post("/workflows/run")
@bp.post("/workflows/<workflow_id>/run")
def run_workflow(workflow_id: str | None = None):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise invalid_param("Invalid JSON body")
    inputs, user = body.get("inputs"), body.get("user")
    if not isinstance(inputs, dict):
        raise invalid_param("inputs is required in input form")
    if not user:
        raise invalid_param("Arg user must be provided.")
    mode = body.get("response_mode") or "blocking"
    store = _store()
    with store.lock:
        app = _app()
        _validate_inputs(app, inputs)
        if app.max_active and app.active >= app.max_active:
            raise DifyHTTPError(
                429,
                "too_many_requests",
                "Too many requests. Please try again later. "
                f"The current maximum concurrent requests allowed for {app.name} is {app.max_active}.",
            )
        app.active += 1
        run = Run(
            id=new_id(),
            task_id=new_id(),
            app_id=app.id,
            workflow_id=workflow_id or app.id,
            inputs=inputs,
            user=str(user),
        )
        run.version = app.workflow.get("version", workflow_engine.DEFAULT_WORKFLOW["version"])
        store.runs[run.id] = run
        store.tasks[run.task_id] = run.id

    def finish() -> None:
        with store.lock:
            app.active -= 1
            store.add_log(run)

    if mode == "streaming":
        return Response(stream_with_context(_stream(run, app, finish)), mimetype="text/event-stream")
    try:
        for _event in workflow_engine.execute(run, app):
            pass
    finally:
        finish()
    return jsonify({"task_id": run.task_id, "workflow_run_id": run.id, "data": run_json(run)})


def _stream(run: Run, app: App, finish):
    """Relay a run that executes in its own thread, as Dify does: a client that goes away does not end the run
    (it finishes, or is stopped through the stop route), and pings keep a stream alive through a long node."""
    ids = {"task_id": run.task_id, "workflow_run_id": run.id}
    ping = float(current_app.config["OPTIONS"].ping_seconds)
    events: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            for event in workflow_engine.execute(run, app):
                events.put(event)
        finally:
            finish()
            events.put(None)

    yield _sse(
        {
            "event": "workflow_started",
            **ids,
            "data": {
                "id": run.id,
                "workflow_id": run.workflow_id,
                "inputs": run.inputs,
                "created_at": int(run.created_at),
            },
        }
    )
    threading.Thread(target=work, name=f"run-{run.id}", daemon=True).start()
    while True:
        try:
            event = events.get(timeout=ping)
        except queue.Empty:
            yield "event: ping\n\n"
            continue
        if event is None:
            break
        yield _sse({**event, **ids})
    yield _sse({"event": "workflow_finished", **ids, "data": run_json(run)})


@bp.post("/workflows/tasks/<task_id>/stop")
def stop_task(task_id: str):
    body = request.get_json(silent=True) or {}
    if not body.get("user"):
        raise invalid_param("Arg user must be provided.")
    with _store().lock:
        run_id = _store().tasks.get(task_id)
        if run_id is not None and _store().runs[run_id].app_id == g.app_id:
            _store().runs[run_id].stop_requested = True
    return jsonify({"result": "success"})


@bp.get("/workflows/run/<run_id>")
def run_detail(run_id: str):
    with _store().lock:
        run = _store().runs.get(run_id)
        if run is None or run.app_id != g.app_id:
            if current_app.config["BEHAVIOUR"].run_detail_404:
                raise not_found("Workflow run not found.")
            keys = (
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
            return jsonify(dict.fromkeys(keys))
        data = run_json(run)
    data["inputs"] = json.dumps(run.inputs)
    return jsonify(data)


def _parse_time(name: str) -> float | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_param(f"{name}: invalid datetime format, expected ISO-8601") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def log_json(run: Run) -> dict:
    return {
        "id": f"log-{run.id}",
        "workflow_run": {
            "id": run.id,
            "version": run.version,
            "status": run.status,
            "error": run.error,
            "elapsed_time": run.elapsed_time,
            "total_tokens": run.total_tokens,
            "total_steps": run.total_steps,
            "created_at": int(run.created_at),
            "finished_at": int(run.finished_at) if run.finished_at else None,
            "exceptions_count": 0,
            "triggered_from": "app-run",
        },
        "created_from": run.created_from,
        "created_by_role": "end_user",
        "created_by_account": None,
        "created_by_end_user": {
            "id": f"eu-{abs(hash(run.user)) % 10**12:012d}",
            "type": "service_api",
            "is_anonymous": False,
            "session_id": run.user,
        },
        "created_at": int(run.created_at),
        "details": None,
    }


@bp.get("/workflows/logs")
def workflow_logs():
    try:
        page = int(request.args.get("page", 1))
        limit = int(request.args.get("limit", 20))
    except ValueError:
        raise invalid_param("page and limit must be integers") from None
    if not 1 <= page <= 99999 or not 1 <= limit <= 100:
        raise invalid_param("page must be 1-99999 and limit 1-100")
    status = request.args.get("status")
    if status and status not in LOG_STATUSES:
        raise invalid_param("status: Input should be 'succeeded', 'failed' or 'stopped'")
    after, before = _parse_time("created_at__after"), _parse_time("created_at__before")
    keyword = request.args.get("keyword")
    session = request.args.get("created_by_end_user_session_id")
    account = request.args.get("created_by_account")
    store = _store()
    with store.lock:
        times = store.log_times.get(g.app_id, [])
        run_ids = store.log_runs.get(g.app_id, [])
        lo = bisect.bisect_left(times, after) if after is not None else 0
        hi = bisect.bisect_right(times, before) if before is not None else len(times)
        window = run_ids[lo:hi]
        if status or keyword or session or account:
            window = [r for r in window if _log_matches(store.runs[r], status, keyword, session, account)]
        total = len(window)
        end = total - (page - 1) * limit
        chunk = window[max(end - limit, 0) : max(end, 0)][::-1]
        data = [log_json(store.runs[r]) for r in chunk]
    return jsonify({"page": page, "limit": limit, "total": total, "has_more": page * limit < total, "data": data})


def _log_matches(run: Run, status, keyword, session, account) -> bool:
    if status and run.status != status:
        return False
    if session and run.user != session:
        return False
    if account:
        return False  # stand-in runs are all made by end users through the service API
    if keyword:
        return keyword in json.dumps(run.inputs, ensure_ascii=False) or keyword in json.dumps(
            run.outputs or {}, ensure_ascii=False
        )
    return True
