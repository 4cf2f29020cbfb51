"""Routes Dify does not have, under /_standin: seeding, settings, faults, the request log, the state dump.

Tests, benchmarks and the demo drive these through `dify_standin.admin.StandinAdmin`. A bad body answers 400
`invalid_param` naming the problem, so a typo in a test fails loudly instead of seeding nothing.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from dify_standin.errors import invalid_param, not_found
from dify_standin.knowledge_json import dataset_json, document_json
from dify_standin.state import STAGES, Dataset, Document, MetadataField, Store, new_batch, new_id
from dify_standin.uploads import DOC_FORMS

bp = Blueprint("admin", __name__, url_prefix="/_standin")

SEEDABLE_STATUSES = (*STAGES, "completed", "error", "paused")


def _store() -> Store:
    return current_app.config["STORE"]


def _body() -> dict:
    body = request.get_json(silent=True)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise invalid_param("a JSON object body is required")
    return body


def _timestamp(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _dataset(dataset_id: str) -> Dataset:
    dataset = _store().datasets.get(dataset_id)
    if dataset is None:
        raise not_found("Dataset not found.")
    return dataset


def _field(dataset: Dataset, name: str, kind: str = "string") -> MetadataField:
    field = dataset.field_named(name)
    if field is None:
        field = MetadataField(id=new_id(), name=name, type=kind)
        dataset.metadata_fields[field.id] = field
    return field


def _seed_document(dataset: Dataset, spec: dict, now: float) -> Document:
    """A document as if uploaded and indexed long ago (or pinned to `indexing_status`), metadata bound."""
    status = spec.get("indexing_status", "completed")
    if status not in SEEDABLE_STATUSES:
        raise invalid_param(f"indexing_status must be one of {', '.join(SEEDABLE_STATUSES)}")
    document = Document(
        id=spec.get("id") or new_id(),
        dataset_id=dataset.id,
        name=str(spec["name"]),
        position=dataset.next_position,
        created_at=_timestamp(spec["created_at"]) if spec.get("created_at") is not None else now,
        content=str(spec.get("text", "")).encode(),
        batch=new_batch(now),
        indexing_started=now,
        indexing_seconds=0,
        fails_with=spec.get("error") or ("Seeded indexing error." if status == "error" else None),
        forced_status=None if status in ("completed", "error") else status,
        enabled=bool(spec.get("enabled", True)),
        archived=bool(spec.get("archived", False)),
        doc_form=_form_arg(spec, "doc_form") or dataset.doc_form or "text_model",
        created_from_text=bool(spec.get("created_from_text", False)),
        created_from=str(spec.get("created_from") or "api"),
    )
    for name, value in (spec.get("metadata") or {}).items():
        document.metadata[name] = value
        document.bindings.append(_field(dataset, name).id)
    dataset.add(document)
    return document


def _form_arg(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and value not in DOC_FORMS:
        raise invalid_param(f"{key} must be one of {', '.join(DOC_FORMS)}")
    return value


@bp.get("/health")
def health():
    return jsonify({"status": "ok", "dify_version": current_app.config["BEHAVIOUR"].label})


@bp.post("/reset")
def reset():
    """Forget every dataset, app, run, log, fault and logged request; settings back to the command line's."""
    _store().reset()
    return jsonify({"result": "success"})


@bp.post("/datasets")
def create_dataset():
    body = _body()
    if not body.get("name"):
        raise invalid_param("name is required")
    dataset = Dataset(
        id=body.get("id") or new_id(),
        name=str(body["name"]),
        description=str(body.get("description", "")),
        indexing_technique=body.get("indexing_technique"),
        process_rule=body.get("process_rule"),
        chunk_structure=_form_arg(body, "chunk_structure"),
        form=_form_arg(body, "doc_form"),
        enable_api=bool(body.get("enable_api", True)),
        app_count=int(body.get("app_count", 0)),
        built_in_field_enabled=bool(body.get("built_in_field_enabled", False)),
        data_source_type=body.get("data_source_type"),
        created_at=_timestamp(body["created_at"]) if body.get("created_at") is not None else time.time(),
    )
    with _store().lock:
        for name, kind in (body.get("metadata_fields") or {}).items():
            _field(dataset, name, kind)
        _store().datasets[dataset.id] = dataset
        return jsonify(dataset_json(dataset, current_app.config["BEHAVIOUR"]))


@bp.post("/datasets/<dataset_id>/documents")
def add_document(dataset_id: str):
    body = _body()
    if not body.get("name"):
        raise invalid_param("name is required")
    now = time.time()
    with _store().lock:
        dataset = _dataset(dataset_id)
        for name, kind in (body.get("metadata_fields") or {}).items():
            _field(dataset, name, kind)
        document = _seed_document(dataset, body, now)
        data = document_json(dataset, document, now, current_app.config["BEHAVIOUR"])
        return jsonify({**data, "batch": document.batch})


@bp.post("/datasets/<dataset_id>/documents/bulk")
def add_documents_bulk(dataset_id: str):
    """Many documents at once (benchmarks): `documents` [{name, metadata, ...}], or `count` named
    `<prefix><n:06d>.md`."""
    body = _body()
    now = time.time()
    specs = body.get("documents") or [
        {"name": f"{body.get('prefix', 'doc-')}{n:06d}.md", "text": "bulk"} for n in range(int(body.get("count", 0)))
    ]
    with _store().lock:
        dataset = _dataset(dataset_id)
        for spec in specs:
            _seed_document(dataset, spec, now)
    return jsonify({"count": len(specs)})


@bp.post("/indexing")
def set_indexing():
    """`seconds` an upload takes to index; `error_names` a regex of names whose indexing ends in error
    ("" or null: none). A key left out keeps its value."""
    body = _body()
    with _store().lock:
        if "seconds" in body:
            _store().indexing_seconds = float(body["seconds"])
        if "error_names" in body:
            pattern = body["error_names"] or None
            if pattern:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise invalid_param(f"error_names is not a regex: {exc}") from None
            _store().error_names = pattern
    return jsonify({"result": "success"})


@bp.post("/upload-limit")
def set_upload_limit():
    _store().upload_limit = int(_body()["bytes"])
    return jsonify({"result": "success"})


@bp.post("/body-limit")
def set_body_limit():
    _store().body_limit = int(_body()["bytes"])
    return jsonify({"result": "success"})


@bp.post("/metadata-hold")
def set_metadata_hold():
    _store().metadata_hold_seconds = float(_body().get("seconds", 0))
    return jsonify({"result": "success"})


@bp.route("/faults", methods=["GET", "POST", "DELETE"])
def faults():
    registry = current_app.config["FAULTS"]
    if request.method == "GET":
        return jsonify({"rules": registry.describe()})
    if request.method == "DELETE":
        registry.set_rules([])
        return jsonify({"result": "success"})
    body = _body()
    try:
        registry.set_rules(body.get("rules", []), seed=int(body.get("seed", 1)))
    except (TypeError, re.error) as exc:
        raise invalid_param(f"bad fault rule: {exc}") from None
    return jsonify({"result": "success"})


@bp.post("/latency")
def latency():
    current_app.config["FAULTS"].latency_ms = float(_body().get("ms", 0))
    return jsonify({"result": "success"})


@bp.post("/pause")
def pause():
    current_app.config["FAULTS"].paused_until = time.time() + float(_body().get("seconds", 0))
    return jsonify({"result": "success"})


@bp.route("/requests", methods=["GET", "DELETE"])
def requests_log():
    registry = current_app.config["FAULTS"]
    if request.method == "DELETE":
        registry.clear_log()
        return jsonify({"result": "success"})
    return jsonify({"requests": registry.entries()})


@bp.get("/state")
def state():
    """Everything, for assertions: datasets with their documents (Dify's JSON plus `metadata` as stored,
    `batch`, `content_size`, and `text` with `?text=1`), counts, settings, and the workflow side's dump.
    Documents are in creation order."""
    store = _store()
    with_text = request.args.get("text") == "1"
    behaviour = current_app.config["BEHAVIOUR"]
    now = time.time()
    with store.lock:
        datasets, statuses = [], {}
        for dataset in store.datasets.values():
            documents = []
            for document in dataset.oldest_first():
                row = document_json(dataset, document, now, behaviour)
                statuses[row["display_status"]] = statuses.get(row["display_status"], 0) + 1
                row.update(
                    metadata=dict(document.metadata),
                    batch=document.batch,
                    content_size=len(document.content),
                )
                if with_text:
                    row["text"] = document.content.decode(errors="replace")
                documents.append(row)
            rule = dataset.process_rule
            datasets.append({**dataset_json(dataset, behaviour), "process_rule": rule, "documents": documents})
        counts = {"datasets": len(datasets), "documents": sum(statuses.values()), "by_display_status": statuses}
        settings = {
            "indexing_seconds": store.indexing_seconds,
            "error_names": store.error_names,
            "upload_limit": store.upload_limit,
            "body_limit": store.body_limit,
            "metadata_hold_seconds": store.metadata_hold_seconds,
        }
    return jsonify(
        {"datasets": datasets, "counts": counts, "settings": settings, **current_app.config["WORKFLOWS"].dump()}
    )
