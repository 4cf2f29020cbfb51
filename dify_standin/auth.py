"""Bearer-key authentication as Dify does it: dataset keys for /datasets, app keys for app routes.

The messages are Dify's (§1 of shared/dify-api.md); a key of the wrong kind is simply "invalid".
"""

from __future__ import annotations

from flask import current_app, g, request

from dify_standin.errors import DifyHTTPError


def _unauthorized(message: str) -> DifyHTTPError:
    headers = {"WWW-Authenticate": 'Bearer realm="api"'} if current_app.config["BEHAVIOUR"].www_authenticate else {}
    return DifyHTTPError(401, "unauthorized", message, headers)


def bearer_token() -> str:
    header = request.headers.get("Authorization")
    if not header or " " not in header:
        raise _unauthorized("Authorization header must be provided and start with 'Bearer'")
    scheme, token = header.split(None, 1)
    if scheme.lower() != "bearer":
        raise _unauthorized("Authorization scheme must be 'Bearer'")
    return token.strip()


def authenticate() -> None:
    """Run before every /v1 request: sets `g.app_id` for app keys; raises 401 otherwise."""
    token = bearer_token()
    store = current_app.config["STORE"]
    path = request.path
    if path.startswith(("/v1/datasets", "/v1/workspaces")):
        if token != current_app.config["OPTIONS"].dataset_key:
            raise _unauthorized("Access token is invalid")
        return
    with store.lock:
        app_id = store.app_keys.get(token)
    if app_id is None:
        raise _unauthorized("Access token is invalid")
    g.app_id = app_id
