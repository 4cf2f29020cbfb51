"""The console routes that read and rebind an app's knowledge: app detail, workflow draft / publish, model config.

Each route first runs the console's own session check (`console_api._account`: `login_required` and, from 1.9.2,
`check_csrf_token`), then `controllers/console/app/wraps.py` `get_app_model`: an unknown app is 404
`app_not_found` "App not found.", a known app of another mode 404 `app_not_found` "App mode is not in the
supported list: {...}" (a Python set in Dify, so its order varies; listed here in the decorator's order).

Routes (all under `/console/api`; Dify `controllers/console/app/…`, 1.7-1.13):

- `GET /apps/{id}`: `app.py` `AppApi.get`, `app_detail_fields_with_site`; `model_config` is null for the
  workflow modes, `workflow` is the published copy's `{id, created_by, created_at, updated_by, updated_at}`.
- `GET /apps/{id}/workflows/draft`: `workflow.py` `DraftWorkflowApi.get`, `workflow_fields`; no draft: 404
  `draft_workflow_not_exist` "Draft workflow need to be initialized." (400 on 0.x, issue #7173).
- `POST /apps/{id}/workflows/draft`: `{graph, features, hash, environment_variables, conversation_variables}` as
  JSON or as `text/plain` JSON (else 415; not an object: 400 "Invalid JSON data"); a `hash` other than the
  draft's: 409 `draft_workflow_not_sync` (400 on 0.x); answers `{result, hash, updated_at}`. What is not sent is
  replaced: a body without `environment_variables` empties them.
- `POST /apps/{id}/workflows/publish`: `{marked_name <= 20, marked_comment <= 100}`; no draft: 400
  `invalid_param` "No valid workflow found."; answers `{result, created_at}` and points the app at the new copy.
- `GET /apps/{id}/workflows/publish`: the published workflow; never published: every field null (200).
- `POST /apps/{id}/model-config` (chat, completion, agent-chat): `model_config.py` `ModelConfigResource.post`,
  validated, filtered to the config keys and stored as a new row; `{"result": "success"}`.

Body validation follows the era (versions.py): flask-restful reqparse before 1.8.0 (`{code: invalid_param,
message, params}`), flask-restx reqparse 1.8-1.9 (`{errors: {field: message}, message: "Input payload validation
failed"}`), pydantic from 1.10 (`SyncDraftWorkflowPayload`, `PublishWorkflowPayload`: 400 `invalid_param` with
pydantic's text). The console's port to pydantic is dify's #27513 series (merged late November 2025, so in 1.11.x);
it is modelled with the service API's boundary (`pydantic_validation`, recorded between 1.9.2 and 1.11.1).
Permissions (`edit_permission_required`) are not modelled: the stand-in's one account owns the workspace.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from pydantic import BaseModel, Field, ValidationError

from dify_standin.console_api import _account  # the console's session check, shared by every console route
from dify_standin.console_apps import (
    MODEL_CONFIG_KEYS,
    MODEL_CONFIG_MODES,
    WORKFLOW_MODES,
    ConsoleApp,
    ConsoleAppStore,
    ModelConfigRow,
    WorkflowRow,
    app_detail_json,
    null_workflow_json,
    sync_environment_variables,
    workflow_json,
)
from dify_standin.errors import DifyCrash, DifyHTTPError, PlainAnswer, invalid_param
from dify_standin.versions import Behaviour

bp = Blueprint("console_apps", __name__, url_prefix="/console/api")


class SyncDraftWorkflowPayload(BaseModel):
    """`controllers/console/app/workflow.py` (pydantic era): the class name appears in Dify's error text."""

    graph: dict[str, Any]
    features: dict[str, Any]
    hash: str | None = None
    environment_variables: list[dict[str, Any]] = Field(default_factory=list)
    conversation_variables: list[dict[str, Any]] = Field(default_factory=list)


class PublishWorkflowPayload(BaseModel):
    marked_name: str | None = Field(default=None, max_length=20)
    marked_comment: str | None = Field(default=None, max_length=100)


def _store() -> ConsoleAppStore:
    return current_app.config["CONSOLE_APPS"]


def _behaviour() -> Behaviour:
    return current_app.config["BEHAVIOUR"]


def _app(app_id: uuid.UUID, modes: tuple[str, ...] | None = None) -> ConsoleApp:
    """`get_app_model`: 404 for an unknown app, 404 for one whose mode the route does not serve."""
    app = _store().apps.get(str(app_id))
    if app is None:
        raise DifyHTTPError(404, "app_not_found", "App not found.")
    if modes is not None and app.mode not in modes:
        listed = ", ".join(repr(m) for m in modes)
        raise DifyHTTPError(404, "app_not_found", f"App mode is not in the supported list: {{{listed}}}")
    return app


def reqparse_error(name: str, message: str) -> Exception:
    """A reqparse argument refused, as each era answers it (see the module docstring)."""
    if _behaviour().restx:
        return PlainAnswer({"errors": {name: message}, "message": "Input payload validation failed"}, 400)
    return PlainAnswer({"code": "invalid_param", "message": message, "params": name}, 400)


def _draft_payload() -> dict[str, Any]:
    """The body of a draft sync, parsed as the running version does."""
    content_type = request.headers.get("Content-Type", "")
    if "application/json" in content_type:
        body = request.get_json(silent=True)
    elif "text/plain" in content_type:
        try:
            body = json.loads(request.get_data(as_text=True))
        except ValueError:
            body = None
    else:
        abort(415)
    if not isinstance(body, dict):
        raise PlainAnswer({"message": "Invalid JSON data"}, 400)
    if _behaviour().pydantic_validation:
        try:
            return SyncDraftWorkflowPayload.model_validate(body).model_dump()
        except ValidationError as exc:
            raise invalid_param(str(exc)) from None
    for name in ("graph", "features"):  # reqparse `type=dict, required=True, nullable=False`
        if name not in body:
            raise reqparse_error(name, "Missing required parameter in the JSON body")
        if body[name] is None:
            raise reqparse_error(name, "Must not be null!")
        try:
            body[name] = dict(body[name])
        except (TypeError, ValueError) as exc:
            raise reqparse_error(name, str(exc)) from None
    return body


def _publish_payload() -> tuple[str, str]:
    """`PublishWorkflowPayload` (pydantic era), else reqparse and the controller's own length checks."""
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    if _behaviour().pydantic_validation:
        try:
            args = PublishWorkflowPayload.model_validate(body)
        except ValidationError as exc:
            raise invalid_param(str(exc)) from None
        return args.marked_name or "", args.marked_comment or ""
    name, comment = str(body.get("marked_name") or ""), str(body.get("marked_comment") or "")
    if len(name) > 20:
        raise invalid_param("Marked name cannot exceed 20 characters")
    if len(comment) > 100:
        raise invalid_param("Marked comment cannot exceed 100 characters")
    return name, comment


@bp.get("/apps/<uuid:app_id>")
def app_detail(app_id: uuid.UUID):
    _account()
    with _store().lock:
        app = _app(app_id)
        return jsonify(app_detail_json(app, request.host_url.rstrip("/") + "/v1"))


@bp.get("/apps/<uuid:app_id>/workflows/draft")
def get_draft(app_id: uuid.UUID):
    _account()
    with _store().lock:
        app = _app(app_id, WORKFLOW_MODES)
        if app.draft is None:
            raise DifyHTTPError(404, "draft_workflow_not_exist", "Draft workflow need to be initialized.")
        return jsonify(workflow_json(app.draft, _behaviour()))


@bp.post("/apps/<uuid:app_id>/workflows/draft")
def sync_draft(app_id: uuid.UUID):
    """`WorkflowService.sync_draft_workflow`: the hash is compared before anything is validated or written; with
    no draft yet there is nothing to compare, and the draft is created."""
    _account()
    with _store().lock:
        app = _app(app_id, WORKFLOW_MODES)
        args = _draft_payload()
        if app.draft is not None and app.draft.hash != args.get("hash"):
            raise DifyHTTPError(
                409,
                "draft_workflow_not_sync",
                "Workflow graph might have been modified, please refresh and resubmit.",
            )
        now = time.time()
        stored = app.draft.environment_variables if app.draft is not None else []
        variables = sync_environment_variables(list(args.get("environment_variables") or []), stored)
        if app.draft is None:
            app.draft = WorkflowRow(str(uuid.uuid4()), "draft", args["graph"], args["features"], created_at=now)
        else:
            app.draft.graph, app.draft.features, app.draft.updated_at = args["graph"], args["features"], now
        app.draft.environment_variables = variables
        app.draft.conversation_variables = [dict(v) for v in args.get("conversation_variables") or []]
        updated = app.draft.updated_at if app.draft.updated_at is not None else app.draft.created_at
        return jsonify({"result": "success", "hash": app.draft.hash, "updated_at": int(updated)})


@bp.post("/apps/<uuid:app_id>/workflows/publish")
def publish(app_id: uuid.UUID):
    _account()
    name, comment = _publish_payload()
    with _store().lock:
        app = _app(app_id, WORKFLOW_MODES)
        if app.draft is None:
            raise invalid_param("No valid workflow found.")
        now = time.time()
        row = app.draft.published_copy(now, name, comment)
        app.published.append(row)
        app.workflow_id, app.updated_at = row.id, now
        return jsonify({"result": "success", "created_at": int(row.created_at)})


@bp.get("/apps/<uuid:app_id>/workflows/publish")
def get_published(app_id: uuid.UUID):
    _account()
    with _store().lock:
        app = _app(app_id, WORKFLOW_MODES)
        published = app.published_workflow
        if published is None:
            return jsonify(null_workflow_json(_behaviour()))
        return jsonify(workflow_json(published, _behaviour()))


@bp.post("/apps/<uuid:app_id>/model-config")
def post_model_config(app_id: uuid.UUID):
    _account()
    with _store().lock:
        app = _app(app_id, MODEL_CONFIG_MODES)
    if not request.is_json:
        abort(415)  # `request.json` on a non-JSON body
    config = request.get_json(silent=True)
    if not isinstance(config, dict):
        raise DifyCrash  # `AppModelConfigService.validate_configuration` indexes it as a dict
    try:
        filtered = validate_model_config(config, app.mode, _known_dataset)
    except ValueError as exc:
        raise invalid_param(str(exc)) from None
    now = time.time()
    with _store().lock:
        app.model_configs.append(ModelConfigRow(str(uuid.uuid4()), filtered, now, now))
        app.updated_at = now
    return jsonify({"result": "success"})


def _known_dataset(dataset_id: str) -> bool:
    knowledge = current_app.config["STORE"]
    with knowledge.lock:
        return dataset_id in knowledge.datasets


def validate_model_config(config: dict[str, Any], mode: str, dataset_exists) -> dict[str, Any]:
    """The parts of `AppModelConfigService.validate_configuration` that touch datasets, with Dify's messages
    (`ModelConfigManager`, `DatasetConfigManager.validate_and_set_defaults` and
    `extract_dataset_config_for_legacy_compatibility`, 1.x). Model providers are not checked: the stand-in has none.
    Returns the config filtered to the model-config keys, as Dify stores it."""
    config = json.loads(json.dumps(config))
    if "model" not in config:
        raise ValueError("model is required")
    if not isinstance(config["model"], dict):
        raise ValueError("model must be of object type")
    agent_mode = config.get("agent_mode") or {"enabled": False, "tools": []}
    if not isinstance(agent_mode, dict):
        raise ValueError("agent_mode must be of object type")
    if not isinstance(agent_mode.get("tools") or [], list):
        raise ValueError("tools in agent_mode must be a list of objects")
    has_tool_datasets = False
    if (agent_mode.get("strategy") or "router") in ("router", "react_router"):
        for tool in agent_mode.get("tools") or []:
            if not isinstance(tool, dict) or list(tool)[:1] != ["dataset"]:
                continue
            item = tool["dataset"]  # old style: {"dataset": {"enabled": ..., "id": ...}}
            if "id" not in item:
                raise ValueError("id is required in dataset")
            try:
                uuid.UUID(str(item["id"]))
            except ValueError:
                raise ValueError("id in dataset must be of UUID type") from None
            if not dataset_exists(str(item["id"])):
                raise ValueError("Dataset ID does not exist, please check your permission.")
            has_tool_datasets = True
    dataset_configs = config.get("dataset_configs") or {"retrieval_model": "single"}
    if not isinstance(dataset_configs, dict):
        raise ValueError("dataset_configs must be of object type")
    listed = (dataset_configs.get("datasets") or {}).get("datasets")
    needs_query = listed or (has_tool_datasets and agent_mode.get("enabled"))
    if needs_query and mode == "completion" and not config.get("dataset_query_variable"):
        raise ValueError("Dataset query variable is required when dataset is exist")
    return {key: config[key] for key in MODEL_CONFIG_KEYS if key in config}
