"""The stand-in's Flask application: blueprints, the request pipeline, the error envelope, the request log.

Per request, in the order Dify's stack answers: nginx's body limit (HTML 413) -> injected faults -> routing
(Flask's HTML 404 for a path no route matches, e.g. a non-UUID id; JSON 405) -> routes this version does not
serve (HTML 404) -> bearer auth (/v1, except the index `GET /v1/`) -> the view. Every answer of the API server
carries `X-Version` and `X-Env` (Dify's `ext_app_metrics`). `/_standin` (admin) skips all of it and is never logged.
"""

from __future__ import annotations

import difflib
import logging
import re
import time
from dataclasses import dataclass

from flask import Flask, Response, abort, current_app, g, request
from werkzeug.exceptions import HTTPException

from dify_standin import (
    admin_api,
    console_api,
    console_apps_admin,
    console_apps_api,
    datasets_api,
    documents_api,
    index_api,
    metadata_api,
    retrieval_api,
    workflow_admin,
    workflow_api,
)
from dify_standin.auth import authenticate
from dify_standin.console_apps import ConsoleAppStore
from dify_standin.errors import (
    DifyCrash,
    DifyHTTPError,
    NotFound,
    PlainAnswer,
    error_response,
    internal_server_error,
    nginx_413,
    snake_case,
)
from dify_standin.faults import Faults
from dify_standin.state import DEFAULT_BODY_LIMIT, Store
from dify_standin.versions import DEFAULT_VERSION, Behaviour, parse_version
from dify_standin.workflow_store import WorkflowStore

# Every blueprint, in registration order: the knowledge side, then the workflow-app side, then the admin routes.
# A new module adds its `bp` here (and, if some versions must not serve its rules, its ROUTE_GATES below).
BLUEPRINTS = (
    index_api.bp,
    datasets_api.bp,
    documents_api.bp,
    metadata_api.bp,
    retrieval_api.bp,
    workflow_api.bp,
    console_api.bp,
    console_apps_api.bp,
    admin_api.bp,
    workflow_admin.bp,
    console_apps_admin.bp,
)
# Full URL rule -> `Behaviour` property that must be true for this version to serve it (else HTML 404).
ROUTE_GATES = {**documents_api.ROUTE_GATES, **metadata_api.ROUTE_GATES}
LOGGED_PREFIXES = ("/v1/", "/console/")
UNAUTHENTICATED = frozenset({"/v1/"})  # the service API's IndexApi
DRAIN_LIMIT = 256 * 1024 * 1024

log = logging.getLogger("dify_standin")


@dataclass
class Options:
    dify_version: str = DEFAULT_VERSION
    dataset_key: str = "dataset-standin-key"
    indexing_seconds: float = 0.0
    etl_type: str = "dify"
    ping_seconds: float = 10.0
    max_body_bytes: int = DEFAULT_BODY_LIMIT


def create_app(options: Options) -> Flask:
    app = Flask("dify_standin")
    store = Store(indexing_seconds=options.indexing_seconds, body_limit=options.max_body_bytes)
    workflows, faults, console_apps = WorkflowStore(), Faults(), ConsoleAppStore()
    store.on_reset(workflows.reset)
    store.on_reset(console_apps.reset)
    store.on_reset(faults.reset)
    app.config.update(
        OPTIONS=options,
        STORE=store,
        WORKFLOWS=workflows,
        CONSOLE_APPS=console_apps,
        FAULTS=faults,
        BEHAVIOUR=Behaviour(parse_version(options.dify_version)),
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.before_request(_before)
    app.after_request(_after)
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(DifyHTTPError, lambda exc: exc.response())
    app.register_error_handler(DifyCrash, lambda exc: internal_server_error())
    app.register_error_handler(PlainAnswer, lambda exc: exc.response())
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    return app


def _before() -> Response | None:
    g.started = time.time()
    if request.path.startswith("/_standin"):
        return None
    length = request.content_length or 0
    if length > current_app.config["STORE"].body_limit:
        _drain(length)
        return nginx_413()
    injected = current_app.config["FAULTS"].before()
    if injected is not None:
        return injected
    if request.routing_exception is not None:
        return None  # Flask raises it in dispatch: HTML 404, JSON 405 (before any auth, as in Dify)
    gate = ROUTE_GATES.get(request.url_rule.rule)
    if gate and not getattr(current_app.config["BEHAVIOUR"], gate):
        abort(404)
    if request.path.startswith("/v1/") and request.path not in UNAUTHENTICATED:
        authenticate()
    return None


def _drain(length: int) -> None:
    """Read (and drop) a rejected body so the client, still sending, gets to read the 413 rather than a reset."""
    stream = request.environ.get("wsgi.input")
    left = min(length, DRAIN_LIMIT)
    while stream is not None and left > 0:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            break
        left -= len(chunk)


def _after(response: Response) -> Response:
    if request.path.startswith("/_standin"):
        return response
    response.headers["X-Version"] = current_app.config["BEHAVIOUR"].label
    response.headers["X-Env"] = index_api.DEPLOY_ENV
    if request.path.startswith(LOGGED_PREFIXES):
        rule = request.url_rule.rule if request.url_rule else None
        started = g.get("started", 0.0)
        current_app.config["FAULTS"].record(request.method, request.path, rule, response.status_code, started)
    return response


def _http_error(exc: HTTPException):
    """Unmatched paths keep Flask's HTML 404 (Dify's API does not catch them); other werkzeug errors on Dify's
    routes become the envelope with the snake-cased class name (`method_not_allowed`)."""
    if exc.code == 404 or not request.path.startswith(LOGGED_PREFIXES):
        return exc
    return error_response(exc.code or 500, snake_case(type(exc).__name__), exc.description or "")


ROUTE_PARAMETERS = re.compile("(<.*>)")  # flask-restx's RE_RULES, greedy: one run from the first < to the last >


def _not_found(exc: NotFound) -> Response:
    """flask-restx `Api._help_on_404` (ERROR_404_HELP is on): the closest routes by difflib, if any, appended as
    "You have requested this URI [...] but did you mean ... ?" (recorded from 1.9.1 on the metadata write of an
    unknown dataset; the closer paths of shorter routes fall under difflib's 0.6 cutoff)."""
    if not current_app.config["BEHAVIOUR"].restx:
        return exc.response()
    rules = {
        ROUTE_PARAMETERS.sub("", rule.rule): rule.rule
        for rule in current_app.url_map.iter_rules()
        if not rule.rule.startswith("/_standin")
    }
    matches = difflib.get_close_matches(request.path, rules.keys())
    if not matches:
        return exc.response()
    suggestion = " or ".join(rules[match] for match in matches)
    message = f"{exc.message.rstrip('.')}. You have requested this URI [{request.path}] but did you mean {suggestion} ?"
    return error_response(404, exc.code, message, exc.headers)


def _unexpected(exc: Exception):
    """A bug in the stand-in: Dify's 500 answer (`internal_server_error()`), and the traceback in the server log."""
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    log.exception("unexpected error on %s %s", request.method, request.path)
    return internal_server_error()
