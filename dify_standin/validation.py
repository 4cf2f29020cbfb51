"""Request validation errors in each era's words: flask-restful reqparse, flask-restx reqparse, pydantic.

Dify validated request bodies three ways (versions.py: `restx` from 1.8.0, `pydantic_validation` from 1.10.0):
- flask-restful reqparse (< 1.8.0): 400 `{"code": "invalid_param", "message": <text>, "params": <field>}`, no
  `status` (recorded on 1.7.2);
- flask-restx reqparse (1.8.0-1.9.x): 400 `{"errors": {<field>: <text>}, "message": "Input payload validation
  failed"}`, no `code` (recorded on 1.9.1, 1.9.2);
- pydantic models (>= 1.10.0): 400 `invalid_param` with `str(ValidationError)` (recorded on 1.11.1-1.13.2).

The pydantic messages are produced by pydantic itself from models shaped (name, fields, types) as Dify's, so the
text matches Dify's to the character, `input_value` truncation included; only the documentation link names the
pydantic release Dify pinned (2.11 up to 1.11.x, 2.12 on 1.13.x, as recorded). Some models (`MetadataArgs`,
`MetadataOperationData`, `KnowledgeConfig`) were pydantic already behind the reqparse front: those errors are
pydantic's in every version.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from dify_standin.errors import DifyHTTPError, PlainAnswer, invalid_param
from dify_standin.versions import Behaviour

DOCS_LINK = re.compile(r"https://errors\.pydantic\.dev/[\d.]+/")
RESTX_FAILED = "Input payload validation failed"


class WorkflowRunPayload(BaseModel):
    inputs: dict[str, Any]
    files: list[dict[str, Any]] | None = None
    response_mode: Literal["blocking", "streaming"] | None = None


class WorkflowLogQuery(BaseModel):
    keyword: str | None = None
    status: Literal["succeeded", "failed", "stopped"] | None = None
    created_at__before: str | None = None
    created_at__after: str | None = None
    created_by_end_user_session_id: str | None = None
    created_by_account: str | None = None
    page: int = Field(default=1, ge=1, le=99999)
    limit: int = Field(default=20, ge=1, le=100)


class DatasetCreatePayload(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    description: str = Field(default="", max_length=400)
    indexing_technique: Literal["high_quality", "economy"] | None = None
    permission: Literal["only_me", "all_team_members", "partial_members"] | None = "only_me"


class MetadataArgs(BaseModel):
    type: Literal["string", "number", "time"]
    name: str


class MetadataDetail(BaseModel):
    id: str
    name: str
    value: str | int | float | None = None


class DocumentMetadataOperation(BaseModel):
    document_id: str
    metadata_list: list[MetadataDetail]
    partial_update: bool = False


class MetadataOperationData(BaseModel):
    operation_data: list[DocumentMetadataOperation]


class KnowledgeConfig(BaseModel):
    """Only the field a create-by-text without `indexing_technique` trips over (its other fields have defaults)."""

    indexing_technique: Literal["high_quality", "economy"]


def pydantic_series(behaviour: Behaviour) -> str:
    return "2.12" if behaviour.version >= (1, 13, 0) else "2.11"


def pydantic_error(model: type[BaseModel], data: Any, behaviour: Behaviour) -> DifyHTTPError | None:
    """The 400 Dify answers when `model` refuses `data`, or None when it accepts it."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return invalid_param(DOCS_LINK.sub(f"https://errors.pydantic.dev/{pydantic_series(behaviour)}/", str(exc)))
    return None


def reqparse_error(behaviour: Behaviour, field: str, *, restful: str, restx: str | None = None) -> Exception:
    """A reqparse refusal of `field` in the framework of the version (before pydantic took over)."""
    if not behaviour.restx:
        return PlainAnswer({"code": "invalid_param", "message": restful, "params": field}, 400)
    return PlainAnswer({"errors": {field: restx if restx is not None else restful}, "message": RESTX_FAILED}, 400)


def check_body(
    behaviour: Behaviour, model: type[BaseModel], body: dict, field: str, *, restful: str, restx: str | None = None
) -> None:
    """A body checked by reqparse (< 1.10.0: only that `field` is there) or by `model` (>= 1.10.0)."""
    if behaviour.pydantic_validation:
        refused = pydantic_error(model, body, behaviour)
        if refused is not None:
            raise refused
    elif field not in body or body[field] is None:
        raise reqparse_error(behaviour, field, restful=restful, restx=restx)


MISSING_IN_JSON = "Missing required parameter in the JSON body"
LOG_STATUSES = ("succeeded", "failed", "stopped")
LOG_RANGES = {"page": (1, 99999), "limit": (1, 100)}


def check_log_query(behaviour: Behaviour, args: dict[str, str]) -> None:
    """`GET /workflows/logs`: `WorkflowLogQuery` from 1.10.0; before, reqparse's `choices` for `status` and
    flask-restful's `int_range` for `page` / `limit` (its own texts)."""
    if behaviour.pydantic_validation:
        refused = pydantic_error(WorkflowLogQuery, args, behaviour)
        if refused is not None:
            raise refused
        return
    status = args.get("status")
    if status and status not in LOG_STATUSES:
        raise reqparse_error(
            behaviour,
            "status",
            restful=f"{status} is not a valid choice",
            restx=f"The value '{status}' is not a valid choice for 'status'.",
        )
    for name, (low, high) in LOG_RANGES.items():
        raw = args.get(name)
        if raw is None:
            continue
        try:
            value = int(raw)
        except ValueError:
            raise reqparse_error(behaviour, name, restful=f"{raw} is not a valid integer") from None
        if not low <= value <= high:
            text = f"Invalid argument: {value}. argument must be within the range {low} - {high}"
            raise reqparse_error(behaviour, name, restful=text)
