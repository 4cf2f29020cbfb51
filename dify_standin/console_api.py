"""The slice of Dify's console API that reports need: login, token refresh, node executions of a run.

Up to 1.8 the login answers tokens in the body (then `Authorization: Bearer`); from 1.9 it sets the
`access_token`, `refresh_token` and `csrf_token` cookies and every call must echo the CSRF token in
`X-CSRF-Token`.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, current_app, jsonify, request

from dify_standin import workflow_engine
from dify_standin.errors import DifyHTTPError, not_found

bp = Blueprint("console", __name__, url_prefix="/console/api")


def _store():
    return current_app.config["STORE"]


@bp.post("/login")
def login():
    body = request.get_json(silent=True) or {}
    email, password = body.get("email"), body.get("password")
    store = _store()
    with store.lock:
        if not email or store.console_accounts.get(email) != password:
            raise DifyHTTPError(401, "authentication_failed", "Invalid email or password.")
        access, refresh, csrf = (secrets.token_urlsafe(24) for _ in range(3))
        store.console_tokens[access] = email
        store.console_tokens["csrf:" + access] = csrf
    if not current_app.config["BEHAVIOUR"].cookie_login:
        return jsonify({"result": "success", "data": {"access_token": access, "refresh_token": refresh}})
    response = jsonify({"result": "success"})
    response.set_cookie("access_token", access, httponly=True, samesite="Lax")
    response.set_cookie("refresh_token", refresh, httponly=True, samesite="Lax")
    response.set_cookie("csrf_token", csrf, samesite="Lax")
    return response


def _account() -> str:
    store = _store()
    if current_app.config["BEHAVIOUR"].cookie_login:
        token = request.cookies.get("access_token")
        with store.lock:
            expected = store.console_tokens.get("csrf:" + (token or ""))
        if (
            not expected
            or request.headers.get("X-CSRF-Token") != expected
            or request.cookies.get("csrf_token") != expected
        ):
            raise DifyHTTPError(401, "unauthorized", "CSRF token is missing or invalid.")
    else:
        header = request.headers.get("Authorization", "")
        token = header.split(None, 1)[1] if header.lower().startswith("bearer ") else None
    with store.lock:
        email = store.console_tokens.get(token or "")
    if email is None:
        raise DifyHTTPError(401, "unauthorized", "Invalid Authorization token.")
    return email


@bp.post("/refresh-token")
def refresh_token():
    _account()
    return jsonify({"result": "success"})


@bp.get("/apps/<app_id>/workflow-runs/<run_id>/node-executions")
def node_executions(app_id: str, run_id: str):
    _account()
    store = _store()
    with store.lock:
        app = store.apps.get(app_id)
        run = store.runs.get(run_id)
        if app is None or run is None or run.app_id != app_id:
            raise not_found("Workflow run not found")
        return jsonify({"data": workflow_engine.node_records(run, app)})
