"""The knowledge part of Dify's service API: datasets, documents, indexing status, document metadata.

Behaviour follows `shared/dify-api.md` §2-§5: pages of 20 by default and at most 100, `has_more` computed as
`len(data) == requested limit` (wrong at exact multiples), upsert by name on create unless `duplicate: false`,
updates only while a document is `available`, metadata writes that replace every value unless the version
knows `partial_update`, size and type rejections that are 400 on create but 413/415 on update.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from dify_standin.errors import DifyHTTPError, invalid_param, not_found
from dify_standin.state import Dataset, Document, Store, new_batch, new_id

bp = Blueprint("knowledge", __name__, url_prefix="/v1")

DIFY_EXTENSIONS = {
    "txt",
    "markdown",
    "md",
    "mdx",
    "pdf",
    "html",
    "htm",
    "xlsx",
    "xls",
    "docx",
    "csv",
    "vtt",
    "properties",
}
UNSTRUCTURED_EXTENSIONS = {"doc", "eml", "msg", "pptx", "ppt", "xml", "epub"}
BUILT_IN_FIELDS = {"document_name", "uploader", "source", "upload_date", "last_update_date"}
MAX_SEGMENT_TOKENS = 4000


def _store() -> Store:
    return current_app.config["STORE"]


def _options():
    return current_app.config["OPTIONS"]


def _behaviour():
    return current_app.config["BEHAVIOUR"]


def _now() -> float:
    return time.time()


def _dataset(dataset_id) -> Dataset:
    dataset = _store().datasets.get(str(dataset_id))
    if dataset is None:
        raise not_found("Dataset not found.")
    return dataset


def _document(dataset: Dataset, document_id) -> Document:
    document = dataset.documents.get(str(document_id))
    if document is None:
        raise not_found("Document Not Exists.")
    return document


def _page_args() -> tuple[int, int, int]:
    """(page, requested limit, effective limit): the effective limit is capped at 100, the request is echoed."""
    try:
        page = int(request.args.get("page", 1))
        limit = int(request.args.get("limit", 20))
    except ValueError:
        raise invalid_param("page and limit must be integers") from None
    if page < 1 or limit < 1:
        raise invalid_param("page and limit must be positive")
    return page, limit, min(limit, 100)


def dataset_json(dataset: Dataset) -> dict:
    fields = list(dataset.metadata_fields.values())
    return {
        "id": dataset.id,
        "name": dataset.name,
        "description": dataset.description,
        "provider": "vendor",
        "permission": dataset.permission,
        "data_source_type": "upload_file" if dataset.documents else None,
        "indexing_technique": dataset.indexing_technique,
        "app_count": 0,
        "document_count": len(dataset.documents),
        "word_count": sum(len(d.content.split()) for d in dataset.documents.values()),
        "created_by": "standin-owner",
        "author_name": "Stand-in Owner",
        "created_at": int(dataset.created_at),
        "updated_by": "standin-owner",
        "updated_at": int(dataset.created_at),
        "embedding_model": "text-embedding-3-small",
        "embedding_model_provider": "openai",
        "embedding_available": True,
        "retrieval_model_dict": {"search_method": "semantic_search", "top_k": 3},
        "tags": [],
        "doc_form": dataset.doc_form,
        "doc_metadata": [{"id": f["id"], "name": f["name"], "type": f["type"]} for f in fields],
        "built_in_field_enabled": dataset.built_in_field_enabled,
        "enable_api": True,
    }


def document_json(dataset: Dataset, document: Document, now: float) -> dict:
    status = document.indexing_status(now)
    extension = document.name.rsplit(".", 1)[-1].lower() if "." in document.name else "txt"
    words = len(document.content.split())
    data = {
        "id": document.id,
        "position": document.position,
        "data_source_type": "upload_file",
        "data_source_info": {"upload_file_id": document.upload_file_id},
        "data_source_detail_dict": {
            "upload_file": {
                "id": document.upload_file_id,
                "name": document.name,
                "size": len(document.content),
                "extension": extension,
                "mime_type": "text/plain",
                "created_by": "standin-owner",
                "created_at": int(document.created_at),
            }
        },
        "dataset_process_rule_id": new_id() if dataset.process_rule else None,
        "name": document.name,
        "created_from": "api",
        "created_by": "standin-owner",
        "created_at": int(document.created_at),
        "tokens": words * 2 if status == "completed" else 0,
        "indexing_status": status,
        "error": document.fails_with if status == "error" else None,
        "enabled": document.enabled,
        "disabled_at": None if document.enabled else int(document.created_at),
        "disabled_by": None if document.enabled else "standin-owner",
        "archived": document.archived,
        "display_status": document.display_status(now),
        "word_count": words,
        "hit_count": 0,
        "doc_form": document.doc_form,
    }
    if _behaviour().has_doc_metadata:
        data["doc_metadata"] = _document_metadata(dataset, document)
    return data


def _document_metadata(dataset: Dataset, document: Document) -> list[dict]:
    by_name = {f["name"]: f for f in dataset.metadata_fields.values()}
    return [
        {"id": by_name[name]["id"], "name": name, "type": by_name[name]["type"], "value": value}
        for name, value in document.metadata.items()
        if name in by_name
    ]


# ---------------------------------------------------------------- datasets


@bp.get("/datasets")
def list_datasets():
    page, requested, limit = _page_args()
    keyword = request.args.get("keyword")
    with _store().lock:
        rows = sorted(_store().datasets.values(), key=lambda d: d.created_at, reverse=True)
        if keyword:
            rows = [d for d in rows if keyword in d.name]
        chunk = rows[(page - 1) * limit : page * limit]
        data = [dataset_json(d) for d in chunk]
    return jsonify(
        {"data": data, "has_more": len(data) == requested, "limit": requested, "total": len(rows), "page": page}
    )


@bp.post("/datasets")
def create_dataset():
    body = request.get_json(silent=True) or {}
    name = str(body.get("name") or "").strip()
    if not 1 <= len(name) <= 40:
        raise invalid_param("Name must be between 1 to 40 characters.")
    with _store().lock:
        if any(d.name == name for d in _store().datasets.values()):
            raise DifyHTTPError(
                409, "dataset_name_duplicate", "The dataset name already exists. Please modify your dataset name."
            )
        dataset = Dataset(
            id=new_id(),
            name=name,
            description=str(body.get("description") or "")[:400],
            indexing_technique=body.get("indexing_technique"),
            permission=body.get("permission") or "only_me",
        )
        _store().datasets[dataset.id] = dataset
        return jsonify(dataset_json(dataset))


@bp.get("/datasets/<uuid:dataset_id>")
def get_dataset(dataset_id):
    with _store().lock:
        return jsonify(dataset_json(_dataset(dataset_id)))


@bp.patch("/datasets/<uuid:dataset_id>")
def patch_dataset(dataset_id):
    body = request.get_json(silent=True) or {}
    with _store().lock:
        dataset = _dataset(dataset_id)
        for key in ("name", "description", "indexing_technique", "permission"):
            if key in body:
                setattr(dataset, key, body[key])
        return jsonify(dataset_json(dataset))


@bp.delete("/datasets/<uuid:dataset_id>")
def delete_dataset(dataset_id):
    with _store().lock:
        _dataset(dataset_id)
        del _store().datasets[str(dataset_id)]
    return Response(status=204)


# ---------------------------------------------------------------- documents


@bp.get("/datasets/<uuid:dataset_id>/documents")
def list_documents(dataset_id):
    page, requested, limit = _page_args()
    keyword = request.args.get("keyword")
    now = _now()
    with _store().lock:
        dataset = _dataset(dataset_id)
        ids = dataset.order
        if keyword:
            ids = [i for i in ids if keyword in dataset.documents[i].name]
        total = len(ids)
        # created_at DESC, position DESC == reverse creation order
        start = total - (page - 1) * limit
        chunk = ids[max(start - limit, 0) : max(start, 0)][::-1]
        data = [document_json(dataset, dataset.documents[i], now) for i in chunk]
    return jsonify({"data": data, "has_more": len(data) == requested, "limit": requested, "total": total, "page": page})


def _check_first_document(dataset: Dataset, options: dict) -> None:
    if dataset.indexing_technique is None:
        technique = options.get("indexing_technique")
        if technique not in ("high_quality", "economy"):
            raise invalid_param("indexing_technique is required.")
        dataset.indexing_technique = technique
    rule = options.get("process_rule")
    if rule is None and dataset.process_rule is None:
        raise invalid_param("process_rule is required.")
    if rule is not None:
        if not isinstance(rule, dict) or rule.get("mode") not in ("automatic", "custom", "hierarchical"):
            raise invalid_param("Process rule mode is invalid")
        if dataset.process_rule is None:
            dataset.process_rule = rule
    form = options.get("doc_form")
    if form and dataset.doc_form and form != dataset.doc_form:
        raise invalid_param("Invalid doc_form.")
    if dataset.doc_form is None:
        dataset.doc_form = form or "text_model"


def _indexing_failure(dataset: Dataset, name: str, content: bytes, options: dict) -> str | None:
    pattern = _store().error_names
    if pattern and re.search(pattern, name):
        return "Stand-in: indexing failed for this document (error_names rule)."
    rule = options.get("process_rule") or dataset.process_rule or {}
    tokens = ((rule.get("rules") or {}).get("segmentation") or {}).get("max_tokens")
    if isinstance(tokens, int) and tokens > MAX_SEGMENT_TOKENS:
        return f"Custom segment length should be between 50 and {MAX_SEGMENT_TOKENS}."
    if not content.strip():
        return "Document is empty."
    return None


def _cut_name(name: str) -> str:
    if len(name) <= 200:
        return name
    if "." in name:
        stem, ext = name.rsplit(".", 1)
        return stem[: 199 - len(ext)] + "." + ext
    return name[:200]


def _check_file(filename: str, size: int, *, updating: bool) -> None:
    if "/" in filename or "\\" in filename:
        raise DifyHTTPError(400, "invalid_param", "Filename contains invalid characters.")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    allowed = DIFY_EXTENSIONS | (UNSTRUCTURED_EXTENSIONS if _options().etl_type == "Unstructured" else set())
    if extension not in allowed:
        if updating:
            raise DifyHTTPError(415, "unsupported_file_type", "File type not allowed.")
        raise invalid_param("File type not allowed.")
    if size > _store().upload_limit:
        message = f"File size exceeded. {size} > {_store().upload_limit}"
        if updating:
            raise DifyHTTPError(413, "file_too_large", message)
        raise invalid_param(message)


def _upsert(dataset: Dataset, name: str, content: bytes, options: dict, *, duplicate: bool) -> Document:
    now = _now()
    _check_first_document(dataset, options)
    failure = _indexing_failure(dataset, name, content, options)
    if duplicate:
        for document in dataset.documents.values():
            if document.name == name and document.enabled:
                _reindex(document, content, failure, now)
                return document
    document = Document(
        id=new_id(),
        dataset_id=dataset.id,
        name=name,
        position=dataset.next_position,
        created_at=now,
        content=content,
        data_source_type="upload_file",
        batch=new_batch(now),
        indexing_started=now,
        indexing_seconds=_options().indexing_seconds,
        fails_with=failure,
        doc_form=dataset.doc_form or "text_model",
    )
    dataset.next_position += 1
    dataset.documents[document.id] = document
    dataset.order.append(document.id)
    return document


def _reindex(document: Document, content: bytes, failure: str | None, now: float) -> None:
    document.content = content
    document.batch = new_batch(now)
    document.indexing_started = now
    document.indexing_seconds = _options().indexing_seconds
    document.fails_with = failure
    document.forced_status = None
    document.upload_file_id = new_id()


def _form_options() -> dict:
    raw = request.form.get("data")
    if raw is None:
        return {}
    try:
        options = json.loads(raw)
    except ValueError:
        raise invalid_param("data is not valid JSON") from None
    if not isinstance(options, dict):
        raise invalid_param("data must be a JSON object")
    return options


def _uploaded_file(required: bool):
    files = request.files.getlist("file")
    if len(files) > 1:
        raise DifyHTTPError(400, "too_many_files", "Only one file is allowed.")
    if not files:
        if required:
            raise DifyHTTPError(400, "no_file_uploaded", "Please upload your file.")
        return None
    if not files[0].filename:
        raise DifyHTTPError(400, "filename_not_exists_error", "The specified filename does not exist.")
    return files[0]


def _upload_response(dataset: Dataset, document: Document) -> Response:
    return jsonify({"document": document_json(dataset, document, _now()), "batch": document.batch})


@bp.post("/datasets/<uuid:dataset_id>/document/create-by-file")
@bp.post("/datasets/<uuid:dataset_id>/document/create_by_file")
def create_by_file(dataset_id):
    upload = _uploaded_file(required=True)
    options = _form_options()
    content = upload.read()
    _check_file(upload.filename, len(content), updating=False)
    with _store().lock:
        dataset = _dataset(dataset_id)
        document = _upsert(
            dataset, _cut_name(upload.filename), content, options, duplicate=options.get("duplicate", True) is not False
        )
        return _upload_response(dataset, document)


@bp.post("/datasets/<uuid:dataset_id>/document/create-by-text")
@bp.post("/datasets/<uuid:dataset_id>/document/create_by_text")
def create_by_text(dataset_id):
    body = request.get_json(silent=True) or {}
    name, text = body.get("name"), body.get("text")
    if not name or text is None:
        raise invalid_param("name and text are required.")
    with _store().lock:
        dataset = _dataset(dataset_id)
        document = _upsert(dataset, _cut_name(str(name)), str(text).encode(), body, duplicate=True)
        return _upload_response(dataset, document)


def _updatable(dataset_id, document_id) -> tuple[Dataset, Document]:
    dataset = _dataset(dataset_id)
    document = _document(dataset, document_id)
    if document.display_status(_now()) != "available":
        raise invalid_param("Document is not available")
    return dataset, document


def _update_by_file(dataset_id, document_id):
    upload = _uploaded_file(required=False)
    options = _form_options()
    content = upload.read() if upload else None
    if upload:
        _check_file(upload.filename, len(content), updating=True)
    with _store().lock:
        dataset, document = _updatable(dataset_id, document_id)
        if upload:
            document.name = _cut_name(options.get("name") or upload.filename)
            _reindex(document, content, _indexing_failure(dataset, document.name, content, options), _now())
        elif options.get("name"):
            document.name = _cut_name(options["name"])
        return _upload_response(dataset, document)


@bp.post("/datasets/<uuid:dataset_id>/documents/<uuid:document_id>/update-by-file")
@bp.post("/datasets/<uuid:dataset_id>/documents/<uuid:document_id>/update_by_file")
def update_by_file(dataset_id, document_id):
    return _update_by_file(dataset_id, document_id)


@bp.patch("/datasets/<uuid:dataset_id>/documents/<uuid:document_id>")
def patch_document(dataset_id, document_id):
    if not _behaviour().has_patch_update:
        return Response("<!doctype html><title>405 Method Not Allowed</title>", status=405, mimetype="text/html")
    return _update_by_file(dataset_id, document_id)


@bp.post("/datasets/<uuid:dataset_id>/documents/<uuid:document_id>/update-by-text")
@bp.post("/datasets/<uuid:dataset_id>/documents/<uuid:document_id>/update_by_text")
def update_by_text(dataset_id, document_id):
    body = request.get_json(silent=True) or {}
    if body.get("text") is not None and not body.get("name"):
        raise invalid_param("name is required when text is provided.")
    with _store().lock:
        dataset, document = _updatable(dataset_id, document_id)
        if body.get("name"):
            document.name = _cut_name(str(body["name"]))
        if body.get("text") is not None:
            content = str(body["text"]).encode()
            _reindex(document, content, _indexing_failure(dataset, document.name, content, body), _now())
        return _upload_response(dataset, document)


@bp.delete("/datasets/<uuid:dataset_id>/documents/<uuid:document_id>")
def delete_document(dataset_id, document_id):
    with _store().lock:
        dataset = _dataset(dataset_id)
        document = _document(dataset, document_id)
        if document.indexing_status(_now()) in ("parsing", "cleaning", "splitting", "indexing"):
            raise DifyHTTPError(400, "document_indexing", "Cannot delete document during indexing.")
        if document.archived:
            raise DifyHTTPError(403, "archived_document_immutable", "The archived document is not editable.")
        del dataset.documents[document.id]
        dataset.order.remove(document.id)
    style = _behaviour().delete_style
    if style == "result":
        return jsonify({"result": "success"})
    if style == "body204":
        return Response("204", status=200, mimetype="application/json")
    return Response(status=204)


@bp.get("/datasets/<uuid:dataset_id>/documents/<uuid:document_id>")
def get_document(dataset_id, document_id):
    mode = request.args.get("metadata", "all")
    if mode not in ("all", "only", "without"):
        raise DifyHTTPError(400, "invalid_metadata", f"Invalid metadata value: {mode}")
    now = _now()
    with _store().lock:
        dataset = _dataset(dataset_id)
        document = _document(dataset, document_id)
        metadata = _document_metadata(dataset, document)
        if mode == "only":
            return jsonify({"id": document.id, "doc_type": None, "doc_metadata": metadata})
        data = document_json(dataset, document, now)
        data.update(
            {
                "dataset_process_rule": dataset.process_rule,
                "document_process_rule": dataset.process_rule,
                "completed_at": int(document.completed_at()) if data["indexing_status"] == "completed" else None,
                "updated_at": int(document.indexing_started),
                "indexing_latency": document.indexing_seconds,
                "segment_count": max(1, len(document.content) // 500),
                "average_segment_length": min(len(document.content), 500),
                "doc_language": "English",
            }
        )
        if mode == "all":
            data.update({"doc_type": None, "doc_metadata": metadata})
        else:
            data.pop("doc_metadata", None)
        return jsonify(data)


@bp.get("/datasets/<uuid:dataset_id>/documents/<batch>/indexing-status")
def indexing_status(dataset_id, batch):
    now = _now()
    with _store().lock:
        dataset = _dataset(dataset_id)
        documents = [d for d in dataset.documents.values() if d.batch == batch]
        if not documents:
            raise not_found("Documents not found.")
        data = []
        for document in documents:
            status = document.indexing_status(now)
            done = status == "completed"
            data.append(
                {
                    "id": document.id,
                    "indexing_status": status,
                    "processing_started_at": document.indexing_started,
                    "parsing_completed_at": None,
                    "cleaning_completed_at": None,
                    "splitting_completed_at": None,
                    "completed_at": document.completed_at() if done else None,
                    "paused_at": None,
                    "error": document.fails_with if status == "error" else None,
                    "stopped_at": None,
                    "completed_segments": 1 if done else 0,
                    "total_segments": 1,
                }
            )
    return jsonify({"data": data})


@bp.patch("/datasets/<uuid:dataset_id>/documents/status/<action>")
def document_status(dataset_id, action):
    if action not in ("enable", "disable", "archive", "un_archive"):
        raise DifyHTTPError(400, "invalid_action", f"Invalid action: {action}")
    ids = (request.get_json(silent=True) or {}).get("document_ids") or []
    now = _now()
    with _store().lock:
        dataset = _dataset(dataset_id)
        for document_id in ids:
            document = _document(dataset, document_id)
            if document.indexing_status(now) != "completed":
                raise DifyHTTPError(400, "invalid_action", f"Document: {document.name} is not completed.")
            if action in ("enable", "disable"):
                document.enabled = action == "enable"
            else:
                document.archived = action == "archive"
    return jsonify({"result": "success"})


# ---------------------------------------------------------------- metadata


@bp.post("/datasets/<uuid:dataset_id>/metadata")
def create_metadata_field(dataset_id):
    body = request.get_json(silent=True) or {}
    name, kind = str(body.get("name") or ""), body.get("type")
    if not name or len(name) > 255:
        raise invalid_param("Metadata name cannot exceed 255 characters.")
    if kind not in ("string", "number", "time"):
        raise invalid_param("Invalid metadata type.")
    if name in BUILT_IN_FIELDS:
        raise invalid_param("Metadata name already exists in Built-in fields.")
    with _store().lock:
        dataset = _dataset(dataset_id)
        if any(f["name"] == name for f in dataset.metadata_fields.values()):
            raise invalid_param("Metadata name already exists.")
        field = {"id": new_id(), "name": name, "type": kind}
        dataset.metadata_fields[field["id"]] = field
    return jsonify(field), 201


@bp.get("/datasets/<uuid:dataset_id>/metadata")
def list_metadata_fields(dataset_id):
    with _store().lock:
        dataset = _dataset(dataset_id)
        fields = [
            {**f, "count": sum(1 for d in dataset.documents.values() if f["name"] in d.metadata)}
            for f in dataset.metadata_fields.values()
        ]
        return jsonify({"doc_metadata": fields, "built_in_field_enabled": dataset.built_in_field_enabled})


@bp.patch("/datasets/<uuid:dataset_id>/metadata/<uuid:field_id>")
def rename_metadata_field(dataset_id, field_id):
    name = str((request.get_json(silent=True) or {}).get("name") or "")
    with _store().lock:
        dataset = _dataset(dataset_id)
        field = dataset.metadata_fields.get(str(field_id))
        if field is None:
            raise not_found("Metadata not found.")
        old = field["name"]
        field["name"] = name
        for document in dataset.documents.values():
            if old in document.metadata:
                document.metadata[name] = document.metadata.pop(old)
        return jsonify(field)


@bp.delete("/datasets/<uuid:dataset_id>/metadata/<uuid:field_id>")
def delete_metadata_field(dataset_id, field_id):
    with _store().lock:
        dataset = _dataset(dataset_id)
        field = dataset.metadata_fields.pop(str(field_id), None)
        if field is None:
            raise not_found("Metadata not found.")
        for document in dataset.documents.values():
            document.metadata.pop(field["name"], None)
    return Response(status=204)


@bp.get("/datasets/<uuid:dataset_id>/metadata/built-in")
def built_in_fields(dataset_id):
    with _store().lock:
        _dataset(dataset_id)
    kinds = {"upload_date": "time", "last_update_date": "time"}
    return jsonify({"fields": [{"name": n, "type": kinds.get(n, "string")} for n in sorted(BUILT_IN_FIELDS)]})


@bp.post("/datasets/<uuid:dataset_id>/metadata/built-in/<action>")
def toggle_built_in(dataset_id, action):
    if action not in ("enable", "disable"):
        raise DifyHTTPError(400, "invalid_action", f"Invalid action: {action}")
    with _store().lock:
        _dataset(dataset_id).built_in_field_enabled = action == "enable"
    return jsonify({"result": "success"})


@bp.post("/datasets/<uuid:dataset_id>/documents/metadata")
def set_document_metadata(dataset_id):
    operations = (request.get_json(silent=True) or {}).get("operation_data")
    if not isinstance(operations, list):
        raise invalid_param("operation_data is required.")
    partial_supported = _behaviour().has_partial_update
    with _store().lock:
        dataset = _dataset(dataset_id)
        for operation in operations:
            document = dataset.documents.get(str(operation.get("document_id")))
            if document is None:
                raise invalid_param("Document not found.")
            values: dict[str, Any] = {}
            for item in operation.get("metadata_list") or []:
                field = dataset.metadata_fields.get(str(item.get("id")))
                if field is None or field["name"] != item.get("name"):
                    raise invalid_param(f"Metadata {item.get('name')} not found.")
                values[field["name"]] = item.get("value")
            if partial_supported and operation.get("partial_update"):
                document.metadata.update(values)
            else:
                document.metadata = values
    return jsonify({"result": "success"})
