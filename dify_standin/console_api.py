"""The slice of Dify's console API that reports need: login, token refresh, the node executions of a run.

- < 1.0: tokens in the body; a wrong password is 400 `email_or_password_mismatch`.
- 1.0 - 1.8: tokens in the body; a wrong password is 401 `authentication_failed`. Later calls send
  `Authorization: Bearer <access_token>`; `POST /refresh-token` takes `{"refresh_token"}` in the body.
- >= 1.9: `{"result":"success"}` and cookies `access_token`, `refresh_token` (HttpOnly), `csrf_token`; later calls
  send the cookies and `X-CSRF-Token`; the refresh reads the `refresh_token` cookie and sets new cookies.

From 1.9 every authenticated call checks that `X-CSRF-Token` equals the `csrf_token` cookie and belongs to the
session (`libs/token.check_csrf_token`), else 401 `CSRF token is missing or invalid.` A refresh rotates both
tokens; `/_standin/console-sessions/expire` makes every access token stale so that clients' renewal is testable.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, current_app, jsonify, request

from dify_standin.errors import DifyHTTPError
from dify_standin.workflow_engine import derive_nodes, end_user_id
from dify_standin.workflow_logs import account_json
from dify_standin.workflow_store import ConsoleSession, WorkflowStore

bp = Blueprint("console", __name__, url_prefix="/console/api")

ACCESS_TOKEN_MINUTES = 60


def _store() -> WorkflowStore:
    return current_app.config["WORKFLOWS"]


def _version() -> tuple[int, int]:
    return current_app.config["BEHAVIOUR"].version


def _cookie_login() -> bool:
    return current_app.config["BEHAVIOUR"].cookie_login


def _new_session(email: str) -> ConsoleSession:
    session = ConsoleSession(email, *(secrets.token_urlsafe(24) for _ in range(3)))
    store = _store()
    with store.lock:
        store.sessions[session.access_token] = session
        store.refresh_tokens[session.refresh_token] = session
    return session


def _answer(session: ConsoleSession) -> Response:
    if not _cookie_login():
        return jsonify(
            {
                "result": "success",
                "data": {"access_token": session.access_token, "refresh_token": session.refresh_token},
            }
        )
    response = jsonify({"result": "success"})
    response.set_cookie(
        "access_token", session.access_token, httponly=True, samesite="Lax", max_age=ACCESS_TOKEN_MINUTES * 60
    )
    response.set_cookie("refresh_token", session.refresh_token, httponly=True, samesite="Lax", max_age=30 * 86400)
    response.set_cookie("csrf_token", session.csrf_token, samesite="Lax", max_age=ACCESS_TOKEN_MINUTES * 60)
    return response


@bp.post("/login")
def login():
    body = request.get_json(silent=True) or {}
    email, password = body.get("email"), body.get("password")
    store = _store()
    with store.lock:
        known = bool(email) and store.console_accounts.get(email) == password
    if not known:
        if _version() < (1, 0):
            raise DifyHTTPError(400, "email_or_password_mismatch", "The email or password is mismatched.")
        raise DifyHTTPError(401, "authentication_failed", "Invalid email or password.")
    return _answer(_new_session(email))


@bp.post("/refresh-token")
def refresh_token():
    """Up to 1.8 the token is in the body (errors: 401 `{"result":"fail","data":…}`); from 1.9 in the cookie."""
    if _cookie_login():
        token = request.cookies.get("refresh_token")
        if not token:
            return jsonify({"result": "fail", "message": "No refresh token provided"}), 401
    else:
        token = (request.get_json(silent=True) or {}).get("refresh_token")
        if not token:
            raise DifyHTTPError(400, "invalid_param", "refresh_token: Missing required parameter in the JSON body")
    store = _store()
    with store.lock:
        old = store.refresh_tokens.pop(token, None)
        if old is not None:
            store.sessions.pop(old.access_token, None)
    if old is None:
        key = "message" if _cookie_login() else "data"
        return jsonify({"result": "fail", key: "Invalid refresh token"}), 401
    return _answer(_new_session(old.email))


def _account() -> str:
    """The logged-in e-mail, or 401 as Dify's `login_required` (+ `check_csrf_token` from 1.9) answers."""
    header = request.headers.get("Authorization", "")
    bearer = header.split(None, 1)[1] if header.lower().startswith("bearer ") else None
    token = (request.cookies.get("access_token") or bearer) if _cookie_login() else bearer
    with _store().lock:
        session = _store().sessions.get(token or "")
    if session is None:
        raise DifyHTTPError(401, "unauthorized", "Invalid Authorization token.")
    if _cookie_login():
        csrf = request.headers.get("X-CSRF-Token")
        if not csrf or csrf != request.cookies.get("csrf_token") or csrf != session.csrf_token:
            raise DifyHTTPError(401, "unauthorized", "CSRF token is missing or invalid.")
    return session.email


@bp.get("/apps/<app_id>/workflow-runs/<run_id>/node-executions")
def node_executions(app_id: str, run_id: str):
    """An unknown run of a known app is an empty list in Dify (`get_workflow_run_node_executions`)."""
    _account()
    store = _store()
    with store.lock:
        app = store.apps.get(app_id)
        if app is None:
            raise DifyHTTPError(404, "app_not_found", "App not found.")
        run = store.runs.get(run_id)
        if run is None or run.app_id != app_id:
            return jsonify({"data": []})
        records = [dict(r) for r in run.nodes] if run.nodes is not None else derive_nodes(run, app.spec)
    creator = {
        "created_by_role": "account" if run.account_email else "end_user",
        "created_by_account": account_json(run.account_email) if run.account_email else None,
        "created_by_end_user": None
        if run.account_email
        else {"id": end_user_id(run.app_id, run.session_id or ""), "session_id": run.session_id},
    }
    for record in records:
        record.setdefault("status", "running")
        record.update(creator, inputs_truncated=False, outputs_truncated=False, process_data_truncated=False)
    return jsonify({"data": records})
