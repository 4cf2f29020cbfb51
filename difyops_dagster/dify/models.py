"""What the Dify client returns: frozen dataclasses parsed tolerantly from Dify's JSON.

Newer Dify versions add fields; those are ignored. Missing optional fields get neutral defaults. Timestamps
are integer Unix seconds, as Dify sends them from 1.2.0 (1.0-1.1 sent the run detail's as date-time strings,
read here too). Fields Dify sends as JSON text on some versions (run detail `inputs` always, `outputs` on 1.7.2,
1.9.1 and 1.11.1, an object on 1.13.2) are decoded, so every version reads the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any


def _decoded_object(value: Any) -> dict[str, Any] | None:
    """A JSON object, or the JSON text of one; text that is not an object is kept under `_raw`."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {"_raw": value}
    return value if isinstance(value, dict) else {"_raw": value}


def _timestamp(value: Any) -> int | None:
    """Unix seconds from an int, a float, a numeric string, ISO-8601 or an RFC 2822 date (flask-restful's
    `DateTime` field, the 1.0-1.1 run detail); a naive date-time is UTC, as Dify stores it."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip()
    try:
        return int(float(text))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            raise ValueError(f"not a timestamp: {text[:40]!r}") from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


@dataclass(frozen=True)
class MetadataField:
    id: str
    name: str
    type: str

    @classmethod
    def from_json(cls, data: dict) -> MetadataField:
        return cls(str(data["id"]), str(data["name"]), str(data.get("type") or "string"))


@dataclass(frozen=True)
class Dataset:
    id: str
    name: str
    document_count: int = 0
    indexing_technique: str | None = None
    doc_form: str | None = None
    metadata_fields: tuple[MetadataField, ...] = ()
    # the dataset's own retrieval settings (`retrieval_model_dict`: search_method, top_k, …), which `/retrieve`
    # uses when a request sends none
    retrieval_model: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict) -> Dataset:
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or ""),
            document_count=int(data.get("document_count") or 0),
            indexing_technique=data.get("indexing_technique"),
            # the dataset's document form; pipeline-era Dify (>= 1.9) also calls it `chunk_structure`
            doc_form=data.get("doc_form") or data.get("chunk_structure"),
            metadata_fields=tuple(
                MetadataField.from_json(f) for f in data.get("doc_metadata") or () if f.get("id") != "built-in"
            ),
            retrieval_model=dict(data.get("retrieval_model_dict") or {}),
        )


@dataclass(frozen=True)
class Document:
    id: str
    name: str
    indexing_status: str
    display_status: str | None = None
    enabled: bool = True
    archived: bool = False
    error: str | None = None
    created_at: int = 0
    word_count: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def is_available(self) -> bool:
        if self.display_status is not None:
            return self.display_status == "available"
        return self.indexing_status == "completed" and self.enabled and not self.archived

    @classmethod
    def from_json(cls, data: dict) -> Document:
        # Dify lists five built-in fields (id "built-in": document_name, uploader, …) after a document's own values.
        metadata = {
            str(m["name"]): m.get("value")
            for m in data.get("doc_metadata") or ()
            if "name" in m and m.get("id") != "built-in"
        }
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or ""),
            indexing_status=str(data.get("indexing_status") or "unknown"),
            display_status=data.get("display_status"),
            enabled=bool(data.get("enabled", True)),
            archived=bool(data.get("archived", False)),
            error=data.get("error"),
            created_at=_timestamp(data.get("created_at")) or 0,
            word_count=int(data.get("word_count") or 0),
            metadata=metadata,
        )


@dataclass(frozen=True)
class RetrievalRecord:
    """One chunk `/retrieve` returned, `rank` 1 being the best. `score` is None for `keyword_search` (Dify's
    keyword index scores nothing); `source_key` is the document's metadata value of the field asked for, None
    for a document without it (one uploaded by hand)."""

    rank: int
    segment_id: str
    document_id: str
    document_name: str
    source_key: str | None
    score: float | None
    content: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, rank: int, data: dict, source_key_field: str) -> RetrievalRecord:
        segment = data["segment"]
        document = segment.get("document") or {}
        metadata = document.get("doc_metadata")
        metadata = dict(metadata) if isinstance(metadata, dict) else {}
        key = metadata.get(source_key_field)
        score = data.get("score")
        return cls(
            rank=rank,
            segment_id=str(segment.get("id") or ""),
            document_id=str(segment.get("document_id") or document.get("id") or ""),
            document_name=str(document.get("name") or ""),
            source_key=None if key in (None, "") else str(key),
            score=None if score is None else float(score),
            content=str(segment.get("content") or ""),
            metadata=metadata,
        )


@dataclass(frozen=True)
class UploadResult:
    document: Document
    batch: str


@dataclass(frozen=True)
class IndexingStatus:
    document_id: str
    indexing_status: str
    error: str | None = None
    completed_segments: int = 0
    total_segments: int = 0

    @property
    def finished(self) -> bool:
        return self.indexing_status in ("completed", "error", "paused", "stopped")

    @classmethod
    def from_json(cls, data: dict) -> IndexingStatus:
        return cls(
            document_id=str(data["id"]),
            indexing_status=str(data.get("indexing_status") or "unknown"),
            error=data.get("error"),
            completed_segments=int(data.get("completed_segments") or 0),
            total_segments=int(data.get("total_segments") or 0),
        )


@dataclass(frozen=True)
class AppInfo:
    name: str
    description: str = ""
    mode: str = ""
    tags: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict) -> AppInfo:
        return cls(
            str(data.get("name") or ""),
            str(data.get("description") or ""),
            str(data.get("mode") or ""),
            tuple(data.get("tags") or ()),
        )


@dataclass(frozen=True)
class InputField:
    """One entry of `/parameters` `user_input_form`: `kind` is text-input, paragraph, select, number, file, ..."""

    variable: str
    kind: str
    label: str = ""
    required: bool = False
    default: Any = None
    options: tuple[str, ...] = ()
    max_length: int | None = None

    @classmethod
    def from_json(cls, item: dict) -> InputField:
        kind, spec = next(iter(item.items()))
        return cls(
            variable=str(spec["variable"]),
            kind=str(kind),
            label=str(spec.get("label") or spec["variable"]),
            required=bool(spec.get("required", False)),
            default=spec.get("default"),
            options=tuple(spec.get("options") or ()),
            max_length=spec.get("max_length") or None,
        )


@dataclass(frozen=True)
class AppParameters:
    user_input_form: tuple[InputField, ...]

    @classmethod
    def from_json(cls, data: dict) -> AppParameters:
        return cls(tuple(InputField.from_json(item) for item in data.get("user_input_form") or ()))


@dataclass(frozen=True)
class WorkflowRun:
    id: str
    status: str
    workflow_id: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] | None = None
    error: str | None = None
    elapsed_time: float = 0.0
    total_tokens: int = 0
    total_steps: int = 0
    created_at: int = 0
    finished_at: int | None = None

    @classmethod
    def from_json(cls, data: dict) -> WorkflowRun:
        return cls(
            id=str(data["id"]),
            status=str(data.get("status") or "unknown"),
            workflow_id=data.get("workflow_id"),
            # the run detail adds Dify's system variables (`sys.user_id`, `sys.files`, ...) to what the run was given
            inputs={k: v for k, v in (_decoded_object(data.get("inputs")) or {}).items() if not k.startswith("sys.")},
            outputs=_decoded_object(data.get("outputs")),
            error=data.get("error") or None,
            elapsed_time=float(data.get("elapsed_time") or 0.0),
            total_tokens=int(data.get("total_tokens") or 0),
            total_steps=int(data.get("total_steps") or 0),
            created_at=_timestamp(data.get("created_at")) or 0,
            finished_at=_timestamp(data.get("finished_at")),
        )


@dataclass(frozen=True)
class WorkflowRunResult:
    task_id: str
    workflow_run_id: str
    run: WorkflowRun


@dataclass(frozen=True)
class WorkflowEvent:
    event: str
    task_id: str | None
    workflow_run_id: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class WorkflowLog:
    id: str
    run_id: str
    status: str
    version: str | None
    error: str | None
    elapsed_time: float
    total_tokens: int
    total_steps: int
    created_at: int
    finished_at: int | None
    created_from: str | None
    created_by_role: str | None
    end_user_session_id: str | None
    account_email: str | None
    exceptions_count: int = 0
    triggered_from: str | None = None

    @classmethod
    def from_json(cls, data: dict) -> WorkflowLog:
        run = data.get("workflow_run") or {}
        end_user = data.get("created_by_end_user") or {}
        account = data.get("created_by_account") or {}
        return cls(
            id=str(data["id"]),
            run_id=str(run.get("id") or ""),
            status=str(run.get("status") or "unknown"),
            version=run.get("version"),
            error=run.get("error") or None,
            elapsed_time=float(run.get("elapsed_time") or 0.0),
            total_tokens=int(run.get("total_tokens") or 0),
            total_steps=int(run.get("total_steps") or 0),
            created_at=_timestamp(run.get("created_at") or data.get("created_at")) or 0,
            finished_at=_timestamp(run.get("finished_at")),
            created_from=data.get("created_from"),
            created_by_role=data.get("created_by_role"),
            end_user_session_id=end_user.get("session_id"),
            account_email=account.get("email"),
            exceptions_count=int(run.get("exceptions_count") or 0),
            triggered_from=run.get("triggered_from"),
        )
