"""Admin routes (Dify has none) for workflow apps: create apps, seed log rows, set the console account.

Driven through `StandinAdmin.create_app`, `seed_logs`, `set_console_account`, `expire_console_sessions`. Bad
specs answer 400 `invalid_param` naming the problem, so a test's typo fails loudly instead of seeding nothing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from dify_standin.errors import invalid_param, not_found
from dify_standin.workflow_engine import parse_workflow
from dify_standin.workflow_inputs import DEFAULT_FORM, parse_form
from dify_standin.workflow_logs import generate_runs, seeded_run
from dify_standin.workflow_store import WorkflowApp, WorkflowStore

bp = Blueprint("workflow_admin", __name__, url_prefix="/_standin")


def _store() -> WorkflowStore:
    return current_app.config["WORKFLOWS"]


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise invalid_param("a JSON object body is required")
    return body


def register_app(config: Mapping[str, Any], body: Mapping[str, Any]) -> WorkflowApp:
    """A workflow app with its key (`app-…`); an existing id is replaced, a key in use by another app refused.
    `config` is the Flask app's config (the demo seeds through here before serving)."""
    key = str(body.get("api_key") or "")
    if not body.get("name") or not key.startswith("app-"):
        raise ValueError("an app needs a name and an api_key starting with 'app-'")
    spec = parse_workflow(body.get("workflow") or {})
    form = parse_form(body["user_input_form"] if body.get("user_input_form") is not None else DEFAULT_FORM)
    app = WorkflowApp(
        id=str(body.get("id") or uuid.uuid4()),
        name=str(body["name"]),
        api_key=key,
        spec=spec,
        user_input_form=form,
        description=str(body.get("description", "")),
        max_active=int(body.get("max_active", 0)),
    )
    keys, store = config["STORE"], config["WORKFLOWS"]
    with keys.lock, store.lock:
        if keys.app_keys.get(key, app.id) != app.id:
            raise ValueError(f"api_key is already used by app {keys.app_keys[key]}")
        store.apps[app.id] = app
        keys.app_keys[key] = app.id
    return app


@bp.post("/apps")
def create_app():
    try:
        app = register_app(current_app.config, _body())
    except (TypeError, ValueError) as exc:
        raise invalid_param(str(exc)) from None
    return jsonify({"id": app.id, "name": app.name, "api_key": app.api_key, "workflow_id": app.spec.workflow_id})


@bp.post("/apps/<app_id>/logs")
def seed_logs(app_id: str):
    """Explicit `rows` and/or a `generate` spec; answers the count and how long building the rows took."""
    body = _body()
    store = _store()
    with store.lock:
        app = store.apps.get(app_id)
    if app is None:
        raise not_found("App not found.")
    started, now = time.perf_counter(), time.time()
    try:
        runs = [seeded_run(app, row, now) for row in body.get("rows") or []]
        if body.get("generate"):
            runs += generate_runs(app, body["generate"])
    except (KeyError, TypeError, ValueError) as exc:
        raise invalid_param(f"bad log rows: {exc!s}") from None
    store.add_runs(runs)
    return jsonify({"count": len(runs), "seconds": round(time.perf_counter() - started, 3)})


@bp.post("/console-account")
def console_account():
    body = _body()
    if not body.get("email") or not body.get("password"):
        raise invalid_param("email and password are required")
    with _store().lock:
        _store().console_accounts[str(body["email"])] = str(body["password"])
    return jsonify({"result": "success"})


@bp.post("/console-sessions/expire")
def expire_console_sessions():
    """Every console access token stops working (as after 60 minutes); with `refresh: true` the refresh tokens
    too (as after 30 days), so that only a new login helps."""
    body = request.get_json(silent=True) or {}
    with _store().lock:
        _store().sessions.clear()
        if body.get("refresh"):
            _store().refresh_tokens.clear()
    return jsonify({"result": "success"})
