"""The slice of Dify's console API that reports need: login, token refresh, the node executions of a run.

Versions (versions.py; the recordings in shared/dify-recordings/<version>/console_* show each):
- <= 1.9.1: the login answers the token pair in the body; later calls send `Authorization: Bearer
  <access_token>` (cookies are ignored); `POST /refresh-token` takes `{"refresh_token"}` as JSON.
- >= 1.9.2: `{"result":"success"}` and cookies `access_token`, `refresh_token` (HttpOnly), `csrf_token`; later
  calls send the cookies and `X-CSRF-Token` (`libs/token.check_csrf_token`: equal to the cookie and of the same
  session, else 401 `CSRF token is missing or invalid.`, also for a bearer); the refresh reads the cookie.
- >= 1.11.2: the login's `password` is base64-encoded (`@decrypt_password_field`, `FieldEncryption.decrypt_field`
  = `base64.b64decode`); one that does not decode is 401 `authentication_failed` `Invalid encrypted data`.
- A wrong password / unknown e-mail: 400 `email_or_password_mismatch` / 400 `account_not_found` before 1.8.0,
  401 `authentication_failed` `Invalid email or password.` for both from 1.8.0 (dify PR #24324).
- Every 401 raised as an error carries `WWW-Authenticate: Bearer realm="api"` from 1.8.0 (flask-restx); the
  refresh's own `{"result":"fail"}` 401s are plain answers and carry none.

A refresh rotates both tokens; `/_standin/console-sessions/expire` makes every access token stale so that
clients' renewal is testable.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from flask import Blueprint, Response, current_app, jsonify, request

from dify_standin.errors import DifyHTTPError, PlainAnswer
from dify_standin.versions import Behaviour
from dify_standin.workflow_engine import derive_nodes
from dify_standin.workflow_logs import account_json
from dify_standin.workflow_shapes import end_user_json, node_executions_json
from dify_standin.workflow_store import ConsoleSession, WorkflowStore

bp = Blueprint("console", __name__, url_prefix="/console/api")

ACCESS_TOKEN_MINUTES = 60


def _store() -> WorkflowStore:
    return current_app.config["WORKFLOWS"]


def _behaviour() -> Behaviour:
    return current_app.config["BEHAVIOUR"]


def _cookie_login() -> bool:
    return _behaviour().cookie_login


def _unauthorized(code: str, message: str) -> DifyHTTPError:
    """A 401 raised through Dify's handler: flask-restx (>= 1.8.0) adds the `WWW-Authenticate` header."""
    headers = {"WWW-Authenticate": 'Bearer realm="api"'} if _behaviour().www_authenticate else {}
    return DifyHTTPError(401, code, message, headers)


def _new_session(email: str) -> ConsoleSession:
    session = ConsoleSession(email, *(secrets.token_urlsafe(24) for _ in range(3)))
    store = _store()
    with store.lock:
        store.sessions[session.access_token] = session
        store.refresh_tokens[session.refresh_token] = session
    return session


def _answer(session: ConsoleSession, *, refreshed: bool = False) -> Response:
    """The token pair in the body (<= 1.9.1), or the cookies: the login sets `access_token`, `refresh_token`,
    `csrf_token`, the refresh `csrf_token` first (the order recorded from 1.9.2)."""
    if not _cookie_login():
        return jsonify(
            {
                "result": "success",
                "data": {"access_token": session.access_token, "refresh_token": session.refresh_token},
            }
        )
    response = jsonify({"result": "success"})
    if refreshed:
        response.set_cookie("csrf_token", session.csrf_token, samesite="Lax", max_age=ACCESS_TOKEN_MINUTES * 60)
    response.set_cookie(
        "access_token", session.access_token, httponly=True, samesite="Lax", max_age=ACCESS_TOKEN_MINUTES * 60
    )
    response.set_cookie("refresh_token", session.refresh_token, httponly=True, samesite="Lax", max_age=30 * 86400)
    if not refreshed:
        response.set_cookie("csrf_token", session.csrf_token, samesite="Lax", max_age=ACCESS_TOKEN_MINUTES * 60)
    return response


def decoded_password(sent: object) -> str:
    """From 1.11.2 the login decodes the field first (`base64.b64decode(...).decode()`); a failure is a 401."""
    text = str(sent or "")
    if not _behaviour().base64_password:
        return text
    try:
        return base64.b64decode(text).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _unauthorized("authentication_failed", "Invalid encrypted data") from None


@bp.post("/login")
def login():
    body = request.get_json(silent=True) or {}
    email = body.get("email")
    password = decoded_password(body.get("password"))
    store = _store()
    with store.lock:
        stored = store.console_accounts.get(email) if email else None
    if stored is None or stored != password:
        if _behaviour().login_failure_401:
            raise _unauthorized("authentication_failed", "Invalid email or password.")
        if stored is None:
            raise DifyHTTPError(400, "account_not_found", "Account not found.")
        raise DifyHTTPError(400, "email_or_password_mismatch", "The email or password is mismatched.")
    return _answer(_new_session(email))


def _body_refresh_token() -> str:
    """<= 1.9.1: reqparse `refresh_token` required in the JSON body. Without a JSON body flask-restful (< 1.8.0)
    answers werkzeug's 415, flask-restx its own validation body (no `code`, no `status`)."""
    body = request.get_json(silent=True)
    token = body.get("refresh_token") if isinstance(body, dict) else None
    if token:
        return str(token)
    if not _behaviour().restx and not request.is_json:
        raise DifyHTTPError(
            415,
            "unsupported_media_type",
            "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.",
        )
    missing = {"errors": {"refresh_token": "Missing required parameter in the JSON body"}}
    raise PlainAnswer({**missing, "message": "Input payload validation failed"}, 400)


@bp.post("/refresh-token")
def refresh_token():
    """Up to 1.9.1 the token is in the body (errors: 401 `{"result":"fail","data":…}`); from 1.9.2 in the cookie."""
    if _cookie_login():
        token = request.cookies.get("refresh_token")
        if not token:
            return jsonify({"result": "fail", "message": "No refresh token provided"}), 401
    else:
        token = _body_refresh_token()
    store = _store()
    with store.lock:
        old = store.refresh_tokens.pop(token, None)
        if old is not None:
            store.sessions.pop(old.access_token, None)
    if old is None:
        key = "message" if _cookie_login() else "data"
        return jsonify({"result": "fail", key: "Invalid refresh token"}), 401
    return _answer(_new_session(old.email), refreshed=True)


def _bearer() -> str | None:
    """The bearer token, if any. Up to 1.9.1 a header without a token (`Bearer `, which arrives as `Bearer`) is
    refused as malformed (`libs/login` `_get_user` splits it); from 1.9.2 it just names no session."""
    header = request.headers.get("Authorization", "").strip()
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if not _cookie_login() and (not token.strip() or scheme.lower() != "bearer"):
        raise _unauthorized("unauthorized", "Invalid Authorization header format. Expected 'Bearer <api-key>' format.")
    return token.strip() if scheme.lower() == "bearer" else None


def _account() -> str:
    """The logged-in e-mail, or 401 as Dify's `login_required` (+ `check_csrf_token` from 1.9.2) answers."""
    bearer = _bearer()
    token = (request.cookies.get("access_token") or bearer) if _cookie_login() else bearer
    with _store().lock:
        session = _store().sessions.get(token or "")
    if session is None:
        raise _unauthorized("unauthorized", "Invalid Authorization token.")
    if _cookie_login():
        csrf = request.headers.get("X-CSRF-Token")
        if not csrf or csrf != request.cookies.get("csrf_token") or csrf != session.csrf_token:
            raise _unauthorized("unauthorized", "CSRF token is missing or invalid.")
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
        "created_by_end_user": None if run.account_email else end_user_json(run, _behaviour()),
    }
    return jsonify({"data": node_executions_json(records, run, _behaviour(), creator)})
