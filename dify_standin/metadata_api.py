"""`/v1/datasets/{id}/metadata…` and `POST …/documents/metadata` (Dify >= 1.1; shared/dify-api.md §5).

Modelled on `MetadataService`: a document's values live in its `doc_metadata` keyed by field *name*, and a
binding per field id says which fields the document lists. Each write replaces all of a document's values and
bindings unless the version knows `partial_update` (>= 1.10.1) and the operation sets it. The write answers the
bare JSON number `200` on 1.1.0-1.8.x (`DocumentMetadataEditServiceApi.post` ended `return 200`) and
`{"result":"success"}` from 1.9.0; a document id the dataset lacks is skipped silently before 1.13.0 and refused
with 400 `Document not found.` from 1.13.0. Values are not
type-checked and ids are not checked against names (a wrong pair lists the field with a null value). Writes to
one document are serialised by a per-document lock: a concurrent write gets 400 "Another document metadata
operation is running…", and, as in Dify, the refused call's cleanup releases the lock too. Admin
`set_metadata_hold(seconds)` makes each write hold its lock that long, so tests can provoke the race.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, jsonify

from dify_standin.errors import invalid_param
from dify_standin.knowledge import behaviour, dataset_or_404, json_body, now, store
from dify_standin.knowledge_json import BUILT_IN_FIELDS
from dify_standin.state import OWNER_NAME, Dataset, Document, MetadataField, new_id
from dify_standin.validation import (
    MISSING_IN_JSON,
    MetadataArgs,
    MetadataOperationData,
    pydantic_error,
    reqparse_error,
)

bp = Blueprint("metadata", __name__, url_prefix="/v1")

DS = "/datasets/<uuid:dataset_id>"
ROUTE_GATES = {
    f"/v1{DS}/metadata": "has_doc_metadata",
    f"/v1{DS}/metadata/<uuid:metadata_id>": "has_doc_metadata",
    f"/v1{DS}/metadata/built-in": "dataset_built_in_route",
    f"/v1{DS}/metadata/built-in/<action>": "has_doc_metadata",
    "/v1/datasets/metadata/built-in": "legacy_built_in_route",
    f"/v1{DS}/documents/metadata": "has_doc_metadata",
}
BUILT_IN_NAMES = frozenset(name for name, _ in BUILT_IN_FIELDS)
LOCKED = "Another document metadata operation is running, please wait a moment."


def _check_name(dataset: Dataset, name: str) -> None:
    if len(name) > 255:
        raise invalid_param("Metadata name cannot exceed 255 characters.")
    if dataset.field_named(name) is not None:
        raise invalid_param("Metadata name already exists.")
    if name in BUILT_IN_NAMES:
        raise invalid_param("Metadata name already exists in Built-in fields.")


def _field_json(field: MetadataField | None) -> dict:
    if field is None:  # Dify swallows a failed rename and marshals None
        return {"id": None, "name": None, "type": None}
    return {"id": field.id, "name": field.name, "type": field.type}


@bp.post(DS + "/metadata")
def create_field(dataset_id):
    body = json_body()
    if not behaviour().pydantic_validation:  # reqparse: both required, then `MetadataArgs(**args)`
        for key, help_text in (("type", "Metadata type"), ("name", "Metadata name")):
            if body.get(key) is None:
                raise reqparse_error(behaviour(), key, restful=MISSING_IN_JSON, restx=f"{help_text} {MISSING_IN_JSON}")
    refused = pydantic_error(MetadataArgs, body, behaviour())
    if refused is not None:
        raise refused
    name, kind = body["name"], body["type"]
    with store().lock:
        dataset = dataset_or_404(dataset_id)
        _check_name(dataset, name)
        field = MetadataField(id=new_id(), name=name, type=kind)
        dataset.metadata_fields[field.id] = field
    return jsonify(_field_json(field)), 201


@bp.get(DS + "/metadata")
def list_fields(dataset_id):
    with store().lock:
        dataset = dataset_or_404(dataset_id)
        counts = dict.fromkeys(dataset.metadata_fields, 0)
        for document in dataset.documents.values():
            for field_id in document.bindings:
                if field_id in counts:
                    counts[field_id] += 1
        fields = [{**_field_json(f), "count": counts[f.id]} for f in dataset.metadata_fields.values()]
        return jsonify({"doc_metadata": fields, "built_in_field_enabled": dataset.built_in_field_enabled})


@bp.patch(DS + "/metadata/<uuid:metadata_id>")
def rename_field(dataset_id, metadata_id):
    """Renaming moves the value of every bound document to the new name."""
    name = str(json_body().get("name") or "")
    with store().lock:
        dataset = dataset_or_404(dataset_id)
        _check_name(dataset, name)
        field = dataset.metadata_fields.get(str(metadata_id))
        if field is not None:
            for document in dataset.documents.values():
                if field.id in document.bindings:
                    document.metadata[name] = document.metadata.pop(field.name, None)
            field.name = name
        return jsonify(_field_json(field))


@bp.delete(DS + "/metadata/<uuid:metadata_id>")
def delete_field(dataset_id, metadata_id):
    with store().lock:
        dataset = dataset_or_404(dataset_id)
        field = dataset.metadata_fields.pop(str(metadata_id), None)
        if field is None:
            raise invalid_param("Metadata not found.")
        for document in dataset.documents.values():
            if field.id in document.bindings:
                document.metadata.pop(field.name, None)
    return Response(status=204)


def _built_in_fields():
    return jsonify({"fields": [{"name": name, "type": kind} for name, kind in BUILT_IN_FIELDS]})


@bp.get(DS + "/metadata/built-in")
def built_in_fields(dataset_id):
    with store().lock:
        dataset_or_404(dataset_id)
    return _built_in_fields()


@bp.get("/datasets/metadata/built-in")
def legacy_built_in_fields():
    return _built_in_fields()


def _built_in_values(document: Document) -> dict:
    return {
        "document_name": document.name,
        "uploader": OWNER_NAME,
        "upload_date": document.created_at,
        "last_update_date": document.updated_at,
        "source": "file_upload",
    }


@bp.post(DS + "/metadata/built-in/<action>")
def toggle_built_in(dataset_id, action):
    """Enabling writes the built-in values into every document's `doc_metadata`; disabling removes them."""
    if action not in ("enable", "disable"):
        raise invalid_param("Invalid action.")
    with store().lock:
        dataset = dataset_or_404(dataset_id)
        enable = action == "enable"
        if dataset.built_in_field_enabled != enable:
            for document in dataset.documents.values():
                if enable:
                    document.metadata.update(_built_in_values(document))
                else:
                    for name in BUILT_IN_NAMES:
                        document.metadata.pop(name, None)
            dataset.built_in_field_enabled = enable
    return jsonify({"result": "success"})


def _parse_operations(body: dict) -> list[dict]:
    """`MetadataOperationData` (pydantic in every version). Before 1.10.0 reqparse ran first: `operation_data`
    required, and `type=list` turned a string into its characters (`"x"` -> `["x"]`)."""
    if not behaviour().pydantic_validation:
        operations = body.get("operation_data")
        if operations is None:
            restx = f"Metadata operation data {MISSING_IN_JSON}"
            raise reqparse_error(behaviour(), "operation_data", restful=MISSING_IN_JSON, restx=restx)
        if isinstance(operations, str | dict):
            body = {**body, "operation_data": list(operations)}
    refused = pydantic_error(MetadataOperationData, body, behaviour())
    if refused is not None:
        raise refused
    return body["operation_data"]


def _write(dataset: Dataset, document: Document, operation: dict, partial: bool) -> None:
    items = operation["metadata_list"]
    values = dict(document.metadata) if partial else {}
    values.update({item["name"]: item.get("value") for item in items})
    if dataset.built_in_field_enabled:
        values.update(_built_in_values(document))
    document.metadata = values
    if not partial:
        document.bindings = []
    for item in items:
        if item["id"] not in document.bindings:
            document.bindings.append(item["id"])
    document.updated_at = now()


@bp.post(DS + "/documents/metadata")
def set_document_metadata(dataset_id):
    """One operation at a time, each committed before the next: a failure leaves earlier ones written."""
    operations = _parse_operations(json_body())
    partial_supported = behaviour().has_partial_update
    state = store()
    for operation in operations:
        document_id = str(operation.get("document_id"))
        try:
            with state.lock:
                dataset_or_404(dataset_id)
                if document_id in state.metadata_locks:
                    raise invalid_param(LOCKED)
                state.metadata_locks.add(document_id)
                hold = state.metadata_hold_seconds
            if hold:
                time.sleep(hold)
            with state.lock:
                dataset = dataset_or_404(dataset_id)
                document = dataset.documents.get(document_id)
                if document is None and behaviour().metadata_unknown_document_refused:
                    raise invalid_param("Document not found.")
                if document is not None:
                    partial = partial_supported and operation.get("partial_update") is True
                    _write(dataset, document, operation, partial)
        finally:  # Dify's `finally: redis_client.delete(lock_key)`, also after a refused lock check
            with state.lock:
                state.metadata_locks.discard(document_id)
    if behaviour().metadata_write_bare_200:
        return Response("200\n", status=200, mimetype="application/json")
    return jsonify({"result": "success"})
