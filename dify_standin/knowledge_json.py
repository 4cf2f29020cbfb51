"""How Dify renders datasets, documents and indexing status as JSON, version by version (recorded shapes).

`doc_metadata` on a document is Dify's `doc_metadata_details`: `null` while the document has no values (`[]`
from the newest version), else the bound fields with the value stored under each field's *name*, followed by
the five built-in fields with id `built-in` (always, whatever `built_in_field_enabled` says).
"""

from __future__ import annotations

import mimetypes
from typing import Any

from dify_standin.state import OWNER_ID, OWNER_NAME, Dataset, Document
from dify_standin.uploads import extension_of
from dify_standin.versions import Behaviour

AUTOMATIC_RULES = {  # DatasetProcessRule.AUTOMATIC_RULES
    "pre_processing_rules": [
        {"id": "remove_extra_spaces", "enabled": True},
        {"id": "remove_urls_emails", "enabled": False},
    ],
    "segmentation": {"delimiter": "\n", "max_tokens": 500, "chunk_overlap": 50},
}
BUILT_IN_FIELDS = (
    ("document_name", "string"),
    ("uploader", "string"),
    ("upload_date", "time"),
    ("last_update_date", "time"),
    ("source", "string"),
)
DEFAULT_RETRIEVAL = {
    "search_method": "keyword_search",  # an economy dataset's (recorded); semantic_search needs an embedding model
    "reranking_enable": False,
    "reranking_mode": None,
    "reranking_model": {"reranking_provider_name": "", "reranking_model_name": ""},
    "weights": None,
    "top_k": 2,
    "score_threshold_enabled": False,
    "score_threshold": None,
}
NO_EXTERNAL_KNOWLEDGE = dict.fromkeys(
    (
        "external_knowledge_id",
        "external_knowledge_api_id",
        "external_knowledge_api_name",
        "external_knowledge_api_endpoint",
    )
)
NO_ICON = dict.fromkeys(("icon_type", "icon", "icon_background", "icon_url"))
NO_SUMMARY_INDEX = dict.fromkeys(("enable", "model_name", "model_provider_name", "summary_prompt"))


def dataset_json(dataset: Dataset, behaviour: Behaviour, *, listed: bool = True) -> dict[str, Any]:
    """`dataset_detail_fields` as each version marshals it (keys in Dify's order; versions.py has the changes).
    `embedding_available` is computed by the list and get routes only: a create or update answers it null."""
    documents = len(dataset.documents)
    data: dict[str, Any] = {
        "id": dataset.id,
        "name": dataset.name,
        "description": dataset.description,
        "provider": "vendor",
        "permission": dataset.permission,
        "data_source_type": dataset.data_source_type,
        "indexing_technique": dataset.indexing_technique,
        "app_count": dataset.app_count,
        "document_count": documents,
        "word_count": sum(d.word_count for d in dataset.documents.values()),
        "created_by": OWNER_ID,
    }
    if behaviour.dataset_author_and_multimodal:
        data["author_name"] = OWNER_NAME
    data.update(
        {
            "created_at": int(dataset.created_at),
            "updated_by": OWNER_ID,
            "updated_at": int(dataset.updated_at),
            "embedding_model": dataset.embedding_model,
            "embedding_model_provider": dataset.embedding_model_provider,
            "embedding_available": True if listed else None,
            "retrieval_model_dict": {**DEFAULT_RETRIEVAL, **(dataset.retrieval_model or {})},
        }
    )
    if behaviour.summary_index:
        data["summary_index_setting"] = dict(NO_SUMMARY_INDEX)
    data.update(
        {
            "tags": [],
            "doc_form": dataset.doc_form,
            "external_knowledge_info": dict(NO_EXTERNAL_KNOWLEDGE),
            "external_retrieval_model": {"top_k": 2, "score_threshold": 0.0, "score_threshold_enabled": None},
        }
    )
    if behaviour.has_doc_metadata:
        fields = [{"id": f.id, "name": f.name, "type": f.type} for f in dataset.metadata_fields.values()]
        if dataset.built_in_field_enabled:
            fields += [{"id": "built-in", "name": name, "type": kind} for name, kind in BUILT_IN_FIELDS]
        data["doc_metadata"] = fields
        data["built_in_field_enabled"] = dataset.built_in_field_enabled
    if behaviour.knowledge_pipeline_fields:
        data.update(
            {
                "pipeline_id": None,
                "runtime_mode": "general",
                "chunk_structure": dataset.chunk_structure,
                "icon_info": dict(NO_ICON),
                "is_published": False,
                "total_documents": documents,
                "total_available_documents": sum(1 for d in dataset.documents.values() if d.enabled),
                "enable_api": dataset.enable_api,
            }
        )
    if behaviour.dataset_author_and_multimodal:
        data["is_multimodal"] = False
    return data


def _upload_file(document: Document) -> dict[str, Any]:
    extension = "txt" if document.created_from_text else extension_of(document.name) or "txt"
    return {
        "id": document.upload_file_id,
        "name": document.name,
        "size": len(document.content),
        "extension": extension,
        "mime_type": mimetypes.guess_type("x." + extension)[0] or "",
        "created_by": OWNER_ID,
        "created_at": document.updated_at,  # a float in every version: UploadFile.created_at marshalled raw
    }


def document_json(
    dataset: Dataset, document: Document, now: float, behaviour: Behaviour, *, fresh: bool = False
) -> dict[str, Any]:
    """`document_fields`. `fresh`: the answer of a create or update, given before indexing has counted anything
    (`tokens` / `word_count` 0 before 1.9.0, null from 1.9.0)."""
    status = document.indexing_status(now)
    upload_file = _upload_file(document)
    counted = None if behaviour.knowledge_pipeline_fields else 0
    data: dict[str, Any] = {
        "id": document.id,
        "position": document.position,
        "data_source_type": "upload_file",
        "data_source_info": {"upload_file_id": document.upload_file_id},
        "data_source_detail_dict": {"upload_file": upload_file},
        "dataset_process_rule_id": dataset.process_rule_id,
        "name": document.name,
        "created_from": document.created_from,
        "created_by": OWNER_ID,
        "created_at": int(document.created_at),
        "tokens": counted if fresh else 0,
        "indexing_status": status,
        "error": document.fails_with if status == "error" else None,
        "enabled": document.enabled,
        "disabled_at": None if document.enabled else int(document.updated_at),
        "disabled_by": None if document.enabled else OWNER_ID,
        "archived": document.archived,
        "display_status": document.display_status(now),
        "word_count": counted if fresh else document.word_count,
        "hit_count": 0,
        "doc_form": document.doc_form,
    }
    if behaviour.has_doc_metadata:
        data["doc_metadata"] = document_metadata(dataset, document, behaviour)
    if behaviour.summary_index:
        data.update(summary_index_status=None, need_summary=False)
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
    """`GET …/documents/{id}?metadata=all|only|without` (`DocumentApi.get`): `data_source_info` is the upload
    file itself (`data_source_detail_dict`, `word_count` are not in the detail), the dataset's rule without its
    ids and the document's with them, `created_at` a float before 1.10.0."""
    metadata = document_metadata(dataset, document, behaviour)
    if mode == "only":
        return {"id": document.id, "doc_type": None, "doc_metadata": metadata}
    status = document.indexing_status(now)
    rule = {"mode": "automatic", "rules": AUTOMATIC_RULES, **(dataset.process_rule or {})}
    segments = max(1, document.word_count // 100)
    data: dict[str, Any] = {
        "id": document.id,
        "position": document.position,
        "data_source_type": "upload_file",
        "data_source_info": {"upload_file": _upload_file(document)},
        "dataset_process_rule_id": dataset.process_rule_id,
        "dataset_process_rule": rule,
        "document_process_rule": {"id": dataset.process_rule_id, "dataset_id": dataset.id, **rule},
        "name": document.name,
        "created_from": document.created_from,
        "created_by": OWNER_ID,
        "created_at": int(document.created_at) if behaviour.detail_created_at_int else document.created_at,
        "tokens": document.word_count * 2 if status == "completed" else 0,
        "indexing_status": status,
        "completed_at": _int(document.stage_times(now)["completed_at"]),
        "updated_at": int(document.updated_at),
        "indexing_latency": float(max(document.indexing_seconds, 0.0)),
        "error": document.fails_with if status == "error" else None,
        "enabled": document.enabled,
        "disabled_at": None if document.enabled else int(document.updated_at),
        "disabled_by": None if document.enabled else OWNER_ID,
        "archived": document.archived,
        "doc_type": None,
        "doc_metadata": metadata,
        "segment_count": segments,
        "average_segment_length": document.word_count // segments,
        "hit_count": 0,
        "display_status": document.display_status(now),
        "doc_form": document.doc_form,
        "doc_language": document.doc_language,
    }
    if behaviour.summary_index:
        data.update(summary_index_status=None, need_summary=False)
    if mode == "without":
        del data["doc_type"], data["doc_metadata"]
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
