"""Console apps as Dify keeps them: a mode, a draft workflow and its published copies, or a model configuration.

Pure state and JSON, no Flask: `console_apps_api.py` serves it, `console_apps_admin.py` seeds it. What each part
copies from Dify (langgenius/dify, read at the versions named; the stand-in's README has the route table):

- Modes: `workflow`, `advanced-chat` (chatflow), `chat`, `completion`, `agent-chat` (`models/model.py` `AppMode`).
  Workflow and chatflow apps keep one draft (`version == "draft"`) and one row per publish (`version` = the publish
  time as `str(datetime)`); the app's `workflow_id` names the published row that serves users
  (`services/workflow_service.py` `publish_workflow`, 1.7-1.13). Chat, completion and agent apps keep a model
  configuration; each `POST …/model-config` writes a new row and points the app at it (`app/model_config.py`).
- The draft's `hash` is `Workflow.unique_hash`: `helper.generate_text_hash(json.dumps({"graph", "features"},
  sort_keys=True))`, i.e. sha256 of that text + "None" (`models/workflow.py`, `libs/helper.py`, 1.9-1.13; the
  newest main hashes the graph alone, which no client can tell apart: the hash is opaque).
- Secret environment variables are shown masked (`fields/workflow_fields.py` `EnvironmentVariableField`:
  `obfuscated_token` before 1.9, `full_mask_token()` = 20 `*` from the revision that added
  `rag_pipeline_variables`), and a sync that sends `[__HIDDEN__]` for one keeps the stored value
  (`Workflow.environment_variables` setter, every 1.x). Dify's web UI sends `[__HIDDEN__]`; a client that
  echoes the mask stores the mask as the new secret, as Dify would.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dify_standin.state import OWNER_ID, OWNER_NAME
from dify_standin.versions import Behaviour

APP_MODES = ("workflow", "advanced-chat", "chat", "completion", "agent-chat")
# `get_app_model(mode=[AppMode.ADVANCED_CHAT, AppMode.WORKFLOW])` on the workflow routes, and
# `mode=[AppMode.AGENT_CHAT, AppMode.CHAT, AppMode.COMPLETION]` on `POST …/model-config`.
WORKFLOW_MODES = ("advanced-chat", "workflow")
MODEL_CONFIG_MODES = ("agent-chat", "chat", "completion")
HIDDEN_VALUE = "[__HIDDEN__]"  # constants/__init__.py
OWNER_EMAIL = "owner@standin.local"
# `fields/app_fields.py` `model_config_fields`, without the row's own created/updated fields.
MODEL_CONFIG_KEYS = (
    "opening_statement",
    "suggested_questions",
    "suggested_questions_after_answer",
    "speech_to_text",
    "text_to_speech",
    "retriever_resource",
    "annotation_reply",
    "more_like_this",
    "sensitive_word_avoidance",
    "external_data_tools",
    "model",
    "user_input_form",
    "dataset_query_variable",
    "pre_prompt",
    "agent_mode",
    "prompt_type",
    "chat_prompt_config",
    "completion_prompt_config",
    "dataset_configs",
    "file_upload",
)


def unique_hash(graph: Any, features: Any) -> str:
    text = json.dumps({"graph": graph, "features": features}, sort_keys=True)
    return hashlib.sha256((text + "None").encode()).hexdigest()


def dify_version_string(moment: float) -> str:
    """A published workflow's `version`: `str()` of the naive UTC publish time, e.g. `2026-12-03 10:00:00.123456`."""
    return str(datetime.fromtimestamp(moment, UTC).replace(tzinfo=None))


@dataclass
class WorkflowRow:
    """One row of Dify's `workflows` table: the draft, or one published copy of it."""

    id: str
    version: str  # "draft" or the publish time
    graph: dict[str, Any]
    features: dict[str, Any]
    environment_variables: list[dict[str, Any]] = field(default_factory=list)
    conversation_variables: list[dict[str, Any]] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)
    updated_at: float | None = None
    marked_name: str = ""
    marked_comment: str = ""

    @property
    def hash(self) -> str:
        return unique_hash(self.graph, self.features)

    def published_copy(self, now: float, marked_name: str, marked_comment: str) -> WorkflowRow:
        return WorkflowRow(
            id=str(uuid.uuid4()),
            version=dify_version_string(now),
            graph=copy.deepcopy(self.graph),
            features=copy.deepcopy(self.features),
            environment_variables=copy.deepcopy(self.environment_variables),
            conversation_variables=copy.deepcopy(self.conversation_variables),
            created_at=now,
            marked_name=marked_name,
            marked_comment=marked_comment,
        )


@dataclass
class ModelConfigRow:
    id: str
    config: dict[str, Any]
    created_at: float
    updated_at: float


@dataclass
class ConsoleApp:
    id: str
    name: str
    mode: str
    description: str = ""
    created_at: float = field(default_factory=time.time)
    updated_at: float = 0.0
    draft: WorkflowRow | None = None
    published: list[WorkflowRow] = field(default_factory=list)  # oldest first
    workflow_id: str | None = None  # the published row users get
    model_configs: list[ModelConfigRow] = field(default_factory=list)  # oldest first; the last one is current

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at

    @property
    def published_workflow(self) -> WorkflowRow | None:
        return next((row for row in self.published if row.id == self.workflow_id), None)

    @property
    def model_config(self) -> ModelConfigRow | None:
        return self.model_configs[-1] if self.model_configs else None


class ConsoleAppStore:
    """Every console app; `lock` guards each read and write."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.apps: dict[str, ConsoleApp] = {}


def sync_environment_variables(sent: list[dict[str, Any]], stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The setter's rule: a variable sent with `[__HIDDEN__]` keeps its stored value (only `name` may change)."""
    by_id = {variable.get("id"): variable for variable in stored}
    kept = []
    for variable in sent:
        original = by_id.get(variable.get("id"))
        if original is not None and variable.get("value") == HIDDEN_VALUE:
            variable = {**original, "name": variable.get("name", original.get("name"))}
        kept.append(dict(variable))
    return kept


def _masked(value: Any, behaviour: Behaviour) -> str:
    """`full_mask_token()` (20 `*`) from 1.9, `obfuscated_token` before: first 6 and last 2 characters kept."""
    token = str(value or "")
    if behaviour.workflow_pipeline_fields:
        return "*" * 20
    if not token:
        return token
    return "*" * 20 if len(token) <= 8 else token[:6] + "*" * 12 + token[-2:]


def _environment_variable_json(variable: dict[str, Any], behaviour: Behaviour) -> dict[str, Any]:
    shown = {key: variable.get(key) for key in ("id", "name", "value", "value_type")}
    if variable.get("value_type") == "secret":
        shown["value"] = _masked(variable.get("value"), behaviour)
    if behaviour.workflow_pipeline_fields:
        shown["description"] = variable.get("description", "")
    return shown


def _account_json() -> dict[str, Any]:
    """`simple_account_fields`: the stand-in's one console member."""
    return {"id": OWNER_ID, "name": OWNER_NAME, "email": OWNER_EMAIL}


def workflow_json(row: WorkflowRow, behaviour: Behaviour) -> dict[str, Any]:
    """`workflow_fields` (GET …/workflows/draft and …/workflows/publish)."""
    data: dict[str, Any] = {
        "id": row.id,
        "graph": row.graph,
        "features": row.features,
        "hash": row.hash,
        "version": row.version,
        "marked_name": row.marked_name,
        "marked_comment": row.marked_comment,
        "created_by": _account_json(),
        "created_at": int(row.created_at),
        "updated_by": _account_json() if row.updated_at is not None else None,
        "updated_at": int(row.updated_at if row.updated_at is not None else row.created_at),
        "tool_published": False,
        "environment_variables": [_environment_variable_json(v, behaviour) for v in row.environment_variables],
        "conversation_variables": row.conversation_variables,
    }
    if behaviour.workflow_pipeline_fields:
        data["rag_pipeline_variables"] = []
    return data


def null_workflow_json(behaviour: Behaviour) -> dict[str, Any]:
    """`marshal_with(workflow_fields)` of None (an app never published): every field null, except the nested
    `created_by`, which flask-restful / flask-restx marshal into an object of nulls."""
    data: dict[str, Any] = dict.fromkeys(workflow_json(WorkflowRow("", "", {}, {}), behaviour))
    data["created_by"] = dict.fromkeys(("id", "name", "email"))
    return data


def model_config_json(row: ModelConfigRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    data = {key: row.config.get(key) for key in MODEL_CONFIG_KEYS}
    data.update(
        created_by=OWNER_ID, created_at=int(row.created_at), updated_by=OWNER_ID, updated_at=int(row.updated_at)
    )
    return data


def app_detail_json(app: ConsoleApp, api_base_url: str) -> dict[str, Any]:
    """`fields/app_fields.py` `app_detail_fields_with_site` (GET /console/api/apps/{id})."""
    published = app.published_workflow
    return {
        "id": app.id,
        "name": app.name,
        "description": app.description,
        "mode": app.mode,
        "icon_type": "emoji",
        "icon": "🤖",
        "icon_background": "#FFEAD5",
        "icon_url": None,
        "enable_site": True,
        "enable_api": True,
        "model_config": model_config_json(app.model_config),
        "workflow": None
        if published is None
        else {
            "id": published.id,
            "created_by": OWNER_ID,
            "created_at": int(published.created_at),
            "updated_by": None,
            "updated_at": int(published.created_at),
        },
        "site": {"access_token": app.id[:16], "code": app.id[:16], "title": app.name, "default_language": "en-US"},
        "api_base_url": api_base_url,
        "use_icon_as_answer_icon": False,
        "created_by": OWNER_ID,
        "created_at": int(app.created_at),
        "updated_by": OWNER_ID,
        "updated_at": int(app.updated_at),
        "deleted_tools": [],
        "access_mode": None,
    }
