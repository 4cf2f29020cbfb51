"""Routes Dify does not have, under /_standin: seeding, state dumps, faults, latency, the request log.

Tests, benchmarks and the demo drive these through `dify_standin.admin.StandinAdmin`.
"""

from __future__ import annotations

import time
from datetime import datetime

from flask import Blueprint, current_app, jsonify, request

from dify_standin.errors import invalid_param, not_found
from dify_standin.knowledge_api import dataset_json, document_json
from dify_standin.state import Dataset, Document, new_batch, new_id

bp = Blueprint("admin", __name__, url_prefix="/_standin")


def _store():
    return current_app.config["STORE"]


def _faults():
    return current_app.config["FAULTS"]


def _body() -> dict:
    return request.get_json(silent=True) or {}


def _timestamp(value) -> float:
    if value is None:
        return time.time()
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


@bp.get("/health")
def health():
    return jsonify({"status": "ok", "dify_version": current_app.config["OPTIONS"].dify_version})


@bp.post("/reset")
def reset():
    _store().reset()
    current_app.config["WORKFLOWS"].reset()
    _faults().reset()
    return jsonify({"result": "success"})


@bp.post("/datasets")
def create_dataset():
    body = _body()
    dataset = Dataset(
        id=body.get("id") or new_id(),
        name=body["name"],
        description=body.get("description", ""),
        indexing_technique=body.get("indexing_technique"),
        process_rule=body.get("process_rule"),
    )
    with _store().lock:
        _store().datasets[dataset.id] = dataset
        return jsonify(dataset_json(dataset))


@bp.post("/datasets/<dataset_id>/documents")
def add_document(dataset_id: str):
    body = _body()
    now = time.time()
    with _store().lock:
        dataset = _store().datasets.get(dataset_id)
        if dataset is None:
            raise not_found("Dataset not found.")
        for name, kind in (body.get("metadata_fields") or {}).items():
            if not any(f["name"] == name for f in dataset.metadata_fields.values()):
                field = {"id": new_id(), "name": name, "type": kind}
                dataset.metadata_fields[field["id"]] = field
        status = body.get("indexing_status", "completed")
        document = Document(
            id=new_id(),
            dataset_id=dataset.id,
            name=body["name"],
            position=dataset.next_position,
            created_at=_timestamp(body.get("created_at")) if body.get("created_at") else now,
            content=str(body.get("text", "")).encode(),
            data_source_type="upload_file",
            batch=new_batch(now),
            indexing_started=now,
            indexing_seconds=0,
            fails_with=body.get("error") or ("Seeded indexing error." if status == "error" else None),
            forced_status=None if status == "completed" else status,
            enabled=body.get("enabled", True),
            metadata=dict(body.get("metadata") or {}),
        )
        for name in document.metadata:
            if not any(f["name"] == name for f in dataset.metadata_fields.values()):
                field = {"id": new_id(), "name": name, "type": "string"}
                dataset.metadata_fields[field["id"]] = field
        dataset.next_position += 1
        dataset.documents[document.id] = document
        dataset.order.append(document.id)
        return jsonify(document_json(dataset, document, now))


@bp.post("/datasets/<dataset_id>/documents/bulk")
def add_documents_bulk(dataset_id: str):
    """Many documents at once (benchmarks): `documents` [{name, metadata}], or `count` named `<prefix><n>.md`."""
    body = _body()
    now = time.time()
    specs = body.get("documents") or [
        {"name": f"{body.get('prefix', 'doc-')}{n:06d}.md"} for n in range(int(body["count"]))
    ]
    with _store().lock:
        dataset = _store().datasets.get(dataset_id)
        if dataset is None:
            raise not_found("Dataset not found.")
        for spec in specs:
            document = Document(
                id=new_id(),
                dataset_id=dataset.id,
                name=spec["name"],
                metadata=dict(spec.get("metadata") or {}),
                position=dataset.next_position,
                created_at=now,
                content=b"bulk",
                data_source_type="upload_file",
                batch=new_batch(now),
                indexing_started=now,
                indexing_seconds=0,
            )
            dataset.next_position += 1
            dataset.documents[document.id] = document
            dataset.order.append(document.id)
        for name in {k for spec in specs for k in (spec.get("metadata") or {})}:
            if not any(f["name"] == name for f in dataset.metadata_fields.values()):
                field = {"id": new_id(), "name": name, "type": "string"}
                dataset.metadata_fields[field["id"]] = field
    return jsonify({"count": len(specs)})


@bp.post("/indexing")
def set_indexing():
    body = _body()
    if "seconds" in body:
        current_app.config["OPTIONS"].indexing_seconds = float(body["seconds"])
    if "error_names" in body:
        _store().error_names = body["error_names"]
    return jsonify({"result": "success"})


@bp.post("/upload-limit")
def set_upload_limit():
    _store().upload_limit = int(_body()["bytes"])
    return jsonify({"result": "success"})


@bp.route("/faults", methods=["POST", "DELETE"])
def faults():
    if request.method == "DELETE":
        _faults().set_rules([])
    else:
        try:
            _faults().set_rules(_body().get("rules", []))
        except TypeError as exc:
            raise invalid_param(f"bad fault rule: {exc}") from None
    return jsonify({"result": "success"})


@bp.post("/latency")
def latency():
    _faults().latency_ms = float(_body().get("ms", 0))
    return jsonify({"result": "success"})


@bp.post("/pause")
def pause():
    _faults().paused_until = time.time() + float(_body().get("seconds", 0))
    return jsonify({"result": "success"})


@bp.route("/requests", methods=["GET", "DELETE"])
def requests_log():
    faults = _faults()
    with faults.lock:
        if request.method == "DELETE":
            faults.log.clear()
            return jsonify({"result": "success"})
        return jsonify({"requests": list(faults.log)})


@bp.get("/state")
def state():
    store = _store()
    now = time.time()
    with store.lock:
        datasets = []
        for dataset in store.datasets.values():
            documents = [document_json(dataset, dataset.documents[i], now) for i in dataset.order]
            for doc, record in zip(documents, (dataset.documents[i] for i in dataset.order), strict=True):
                doc["metadata"] = dict(record.metadata)
                doc["content_size"] = len(record.content)
            datasets.append({**dataset_json(dataset), "process_rule": dataset.process_rule, "documents": documents})
    return jsonify({"datasets": datasets, **current_app.config["WORKFLOWS"].dump()})
