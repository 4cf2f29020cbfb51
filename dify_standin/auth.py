"""Bearer-key authentication as Dify does it: the dataset key for /datasets, app keys for the app routes.

The messages are Dify's (shared/dify-api.md §1). A key of the wrong kind is simply "invalid": the token lookup
filters on the key's type. App keys are registered by the workflow-app side (`register_app_key`); the dataset
key is the workspace's, given on the command line.
"""

from __future__ import annotations

from flask import current_app, g, request

from dify_standin.errors import DifyHTTPError
from dify_standin.state import Store

DATASET_PREFIXES = ("/v1/datasets", "/v1/workspaces")


def register_app_key(store: Store, key: str, app_id: str) -> None:
    """Bind an `app-…` key to one app; a key already bound to another app is refused (ValueError)."""
    with store.lock:
        if store.app_keys.get(key, app_id) != app_id:
            raise ValueError(f"api_key is already used by app {store.app_keys[key]}")
        store.app_keys[key] = app_id


def app_for_key(store: Store, key: str) -> str | None:
    with store.lock:
        return store.app_keys.get(key)


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
    """Run before every matched /v1 route: a dataset route needs the dataset key, any other an app key
    (which sets `g.app_id`); else 401."""
    token = bearer_token()
    if request.path.startswith(DATASET_PREFIXES):
        if token != current_app.config["OPTIONS"].dataset_key:
            raise _unauthorized("Access token is invalid")
        return
    app_id = app_for_key(current_app.config["STORE"], token)
    if app_id is None:
        raise _unauthorized("Access token is invalid")
    g.app_id = app_id
