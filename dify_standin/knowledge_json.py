"""How Dify renders datasets, documents and indexing status as JSON (timestamps are integer Unix seconds).

`doc_metadata` on a document is Dify's `doc_metadata_details`: `null` while the document has no values (`[]`
from the newest version), else the bound fields with the value stored under each field's *name*, followed by
the five built-in fields with id `built-in` (always, whatever `built_in_field_enabled` says).
"""

from __future__ import annotations

import mimetypes
from typing import Any

from dify_standin.state import OWNER_ID, OWNER_NAME, Dataset, Document
from dify_standin.versions import Behaviour

BUILT_IN_FIELDS = (
    ("document_name", "string"),
    ("uploader", "string"),
    ("upload_date", "time"),
    ("last_update_date", "time"),
    ("source", "string"),
)
DEFAULT_RETRIEVAL = {
    "search_method": "semantic_search",
    "reranking_enable": False,
    "reranking_model": {"reranking_provider_name": "", "reranking_model_name": ""},
    "top_k": 2,
    "score_threshold_enabled": False,
}


def dataset_json(dataset: Dataset, behaviour: Behaviour) -> dict[str, Any]:
    data = {
        "id": dataset.id,
        "name": dataset.name,
        "description": dataset.description,
        "provider": "vendor",
        "permission": dataset.permission,
        "data_source_type": "upload_file" if dataset.documents else None,
        "indexing_technique": dataset.indexing_technique,
        "app_count": dataset.app_count,
        "document_count": len(dataset.documents),
        "word_count": sum(d.word_count for d in dataset.documents.values()),
        "created_by": OWNER_ID,
        "author_name": OWNER_NAME,
        "created_at": int(dataset.created_at),
        "updated_by": OWNER_ID,
        "updated_at": int(dataset.updated_at),
        "embedding_model": dataset.embedding_model or "text-embedding-3-small",
        "embedding_model_provider": dataset.embedding_model_provider or "langgenius/openai/openai",
        "embedding_available": True,
        "retrieval_model_dict": {**DEFAULT_RETRIEVAL, **(dataset.retrieval_model or {})},
        "tags": [],
        "doc_form": dataset.doc_form,
        "external_knowledge_info": None,
        "external_retrieval_model": None,
        "built_in_field_enabled": dataset.built_in_field_enabled,
        "enable_api": dataset.enable_api,
        "total_documents": len(dataset.documents),
        "total_available_documents": len(dataset.documents),
    }
    if behaviour.has_doc_metadata:
        fields = [{"id": f.id, "name": f.name, "type": f.type} for f in dataset.metadata_fields.values()]
        if dataset.built_in_field_enabled:
            fields += [{"id": "built-in", "name": name, "type": kind} for name, kind in BUILT_IN_FIELDS]
        data["doc_metadata"] = fields
    return data


def document_json(dataset: Dataset, document: Document, now: float, behaviour: Behaviour) -> dict[str, Any]:
    status = document.indexing_status(now)
    extension = document.name.rsplit(".", 1)[-1].lower() if "." in document.name else "txt"
    if document.created_from_text:
        extension = "txt"
    data: dict[str, Any] = {
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
                "mime_type": mimetypes.guess_type("x." + extension)[0] or "application/octet-stream",
                "created_by": OWNER_ID,
                "created_at": int(document.updated_at),
            }
        },
        "dataset_process_rule_id": dataset.process_rule_id,
        "name": document.name,
        "created_from": "api",
        "created_by": OWNER_ID,
        "created_at": int(document.created_at),
        "tokens": document.word_count * 2 if status == "completed" else 0,
        "indexing_status": status,
        "error": document.fails_with if status == "error" else None,
        "enabled": document.enabled,
        "disabled_at": None if document.enabled else int(document.updated_at),
        "disabled_by": None if document.enabled else OWNER_ID,
        "archived": document.archived,
        "display_status": document.display_status(now),
        "word_count": document.word_count,
        "hit_count": 0,
        "doc_form": document.doc_form,
    }
    if behaviour.has_doc_metadata:
        data["doc_metadata"] = document_metadata(dataset, document, behaviour)
    return data


def document_metadata(dataset: Dataset, document: Document, behaviour: Behaviour) -> list[dict] | None:
    if not document.metadata:
        return [] if behaviour.empty_metadata_as_list else None
    bound = [dataset.metadata_fields[i] for i in document.bindings if i in dataset.metadata_fields]
    values = [{"id": f.id, "name": f.name, "type": f.type, "value": document.metadata.get(f.name)} for f in bound]
    built_in = {
        "document_name": document.name,
        "uploader": OWNER_NAME,
        "upload_date": str(round(document.created_at, 6)),
        "last_update_date": str(round(document.updated_at, 6)),
        "source": "file_upload",
    }
    return values + [
        {"id": "built-in", "name": name, "type": kind, "value": built_in[name]} for name, kind in BUILT_IN_FIELDS
    ]


def document_detail_json(
    dataset: Dataset, document: Document, now: float, behaviour: Behaviour, mode: str
) -> dict[str, Any]:
    """`GET …/documents/{id}?metadata=all|only|without`."""
    metadata = document_metadata(dataset, document, behaviour)
    if mode == "only":
        return {"id": document.id, "doc_type": None, "doc_metadata": metadata}
    data = document_json(dataset, document, now, behaviour)
    rule = {"id": dataset.process_rule_id, "dataset_id": dataset.id, **(dataset.process_rule or {"mode": "automatic"})}
    segments = max(1, document.word_count // 100)
    data.update(
        {
            "dataset_process_rule": rule,
            "document_process_rule": rule,
            "completed_at": _int(document.stage_times(now)["completed_at"]),
            "updated_at": int(document.updated_at),
            "indexing_latency": max(document.indexing_seconds, 0.0),
            "segment_count": segments,
            "average_segment_length": document.word_count // segments,
            "doc_language": document.doc_language,
            "summary_index_status": None,
            "need_summary": False,
        }
    )
    if mode == "all":
        data.update({"doc_type": None, "doc_metadata": metadata})
    else:
        data.pop("doc_metadata", None)
    return data


def indexing_status_json(document: Document, now: float) -> dict[str, Any]:
    status = document.indexing_status(now)
    times = document.stage_times(now)
    done = status == "completed"
    segments = max(1, document.word_count // 100)
    return {
        "id": document.id,
        "indexing_status": "paused" if document.paused else status,
        "processing_started_at": _int(times["processing_started_at"]),
        "parsing_completed_at": _int(times["parsing_completed_at"]),
        "cleaning_completed_at": _int(times["cleaning_completed_at"]),
        "splitting_completed_at": _int(times["splitting_completed_at"]),
        "completed_at": _int(times["completed_at"]),
        "paused_at": int(document.updated_at) if document.paused else None,
        "error": document.fails_with if status == "error" else None,
        "stopped_at": _int(times["stopped_at"]),
        "completed_segments": segments if done else 0,
        "total_segments": segments if status not in ("waiting", "parsing", "cleaning") else 0,
    }


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)
