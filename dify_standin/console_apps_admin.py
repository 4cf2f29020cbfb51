"""Admin routes (Dify has none) for console apps: seed one, read one back as stored.

Driven through `StandinAdmin.create_console_app` and `StandinAdmin.console_app`. The state view shows what the
console masks (secret environment values) and every published copy, so tests can assert what an app serves
without logging in.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, current_app, jsonify, request

from dify_standin.console_app_seed import register_console_app
from dify_standin.console_apps import ConsoleAppStore
from dify_standin.errors import invalid_param, not_found

bp = Blueprint("console_apps_admin", __name__, url_prefix="/_standin")


def _store() -> ConsoleAppStore:
    return current_app.config["CONSOLE_APPS"]


@bp.post("/console-apps")
def create_console_app():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise invalid_param("a JSON object body is required")
    try:
        app = register_console_app(_store(), body)
    except (TypeError, ValueError) as exc:
        raise invalid_param(str(exc)) from None
    return jsonify(
        {
            "id": app.id,
            "name": app.name,
            "mode": app.mode,
            "hash": app.draft.hash if app.draft else None,
            "workflow_id": app.workflow_id,
        }
    )


@bp.get("/console-apps/<app_id>")
def console_app(app_id: str):
    with _store().lock:
        app = _store().apps.get(app_id)
        if app is None:
            raise not_found("App not found.")
        return jsonify(
            {
                "id": app.id,
                "name": app.name,
                "mode": app.mode,
                "draft": None if app.draft is None else {**asdict(app.draft), "hash": app.draft.hash},
                "published": [asdict(row) for row in app.published],
                "workflow_id": app.workflow_id,
                "model_config": app.model_config.config if app.model_config else None,
                "model_config_count": len(app.model_configs),
            }
        )
