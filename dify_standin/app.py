"""The stand-in's Flask application: blueprints, auth, faults, the error envelope and the request log."""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from dify_standin import admin_api, console_api, knowledge_api, workflow_admin, workflow_api
from dify_standin.auth import authenticate
from dify_standin.errors import DifyHTTPError
from dify_standin.faults import Faults
from dify_standin.state import Store
from dify_standin.versions import Behaviour, parse_version
from dify_standin.workflow_store import WorkflowStore


@dataclass
class Options:
    dify_version: str = "1.13"
    dataset_key: str = "dataset-standin-key"
    indexing_seconds: float = 0.0
    etl_type: str = "dify"
    ping_seconds: float = 10.0
    max_body_bytes: int = 100 * 1024 * 1024  # nginx client_max_body_size in Dify's docker setup


def create_app(options: Options) -> Flask:
    app = Flask("dify_standin")
    app.config.update(
        OPTIONS=options,
        STORE=Store(),
        WORKFLOWS=WorkflowStore(),
        FAULTS=Faults(),
        BEHAVIOUR=Behaviour(parse_version(options.dify_version)),
        MAX_CONTENT_LENGTH=options.max_body_bytes,
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False
    for blueprint in (knowledge_api.bp, workflow_api.bp, console_api.bp, admin_api.bp, workflow_admin.bp):
        app.register_blueprint(blueprint)

    @app.before_request
    def _before() -> Response | None:
        g.started = time.time()
        if request.path.startswith("/_standin"):
            return None
        injected = app.config["FAULTS"].before()
        if injected is not None:
            return injected
        if request.path.startswith("/v1/"):
            authenticate()
        return None

    @app.after_request
    def _after(response: Response) -> Response:
        if not request.path.startswith("/_standin"):
            rule = request.url_rule.rule if request.url_rule else None
            app.config["FAULTS"].record(request.method, request.path, rule, response.status_code, g.get("started", 0.0))
        return response

    @app.errorhandler(DifyHTTPError)
    def _dify_error(exc: DifyHTTPError) -> Response:
        return exc.response()

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        # Unmatched routes (a non-UUID id) and nginx-sized bodies get HTML pages, as behind Dify's nginx.
        if exc.code in (404, 405, 413) or not request.path.startswith(("/v1/", "/console/")):
            return exc
        code = "".join("_" + c.lower() if c.isupper() else c for c in type(exc).__name__).lstrip("_")
        return DifyHTTPError(exc.code or 500, code, exc.description or "").response()

    return app
