"""The two routes through which Dify tells its version: the service API's index and the API server's health.

- `GET /v1/` (`controllers/service_api/index.py` `IndexApi`, no auth): `{"welcome": "Dify OpenAPI",
  "api_version": "v1", "server_version": "<version>"}`. Reachable through Dify's default nginx (`location /v1`).
- `GET /health` (`extensions/ext_app_metrics.py`): `{"pid", "status": "ok", "version"}`. It is the API server's own
  route, outside `/v1`: Dify's default nginx (`docker/nginx/conf.d/default.conf.template`) has no `location /health`,
  so behind it `/health` falls to `location /` and is answered by the web container, not the API.

The same extension adds `X-Version` and `X-Env` headers to every answer of the API server (`app.py` does that).
"""

from __future__ import annotations

import os

from flask import Blueprint, Response, current_app, jsonify

bp = Blueprint("index", __name__)

DEPLOY_ENV = "PRODUCTION"  # dify_config.DEPLOY_ENV's default, sent as X-Env


def version_label() -> str:
    return current_app.config["BEHAVIOUR"].label


@bp.get("/v1/")
def service_api_index():
    return jsonify({"welcome": "Dify OpenAPI", "api_version": "v1", "server_version": version_label()})


@bp.get("/health")
def health():
    body = current_app.json.dumps({"pid": os.getpid(), "status": "ok", "version": version_label()})
    return Response(body, status=200, content_type="application/json")
