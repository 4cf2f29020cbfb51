"""`POST /v1/datasets/{dataset_id}/retrieve` (and its older name `/hit-testing`), dataset key, over retrieval.py.

Dify: `controllers/service_api/dataset/hit_testing.py` `HitTestingApi` -> `controllers/console/datasets/
hit_testing_base.py` -> `services/hit_testing_service.py` `HitTestingService.retrieve` (1.7-1.13, and main):

- the dataset is looked up first (404 "Dataset not found.", 403 when its API access is off);
- the body is `{query, retrieval_model?, external_retrieval_model?, attachment_ids? (>= 1.11)}`. reqparse era
  (before 1.10): `query` optional, then `hit_testing_args_check` "Query is required and cannot exceed 250
  characters"; a `retrieval_model` without `score_threshold_enabled` or `reranking_enable` crashes on the key
  (500 `internal_server_error`, message the key). Pydantic era (from 1.10, assumed with the service API's port):
  `HitTestingPayload` / `RetrievalModel` (required `search_method`, `reranking_enable`, `top_k`,
  `score_threshold_enabled`) refuse with 400 `invalid_param` and pydantic's text; from 1.11 the check reads
  "Query or attachment_ids is required" / "Query cannot exceed 250 characters";
- the retrieval settings are the request's `retrieval_model`, else the dataset's own, else the service default
  (`semantic_search`, top_k 4, no threshold) — never a merge of them;
- only documents that are indexed (`completed`), enabled and not archived are searched (Dify removes the others
  from its index);
- the answer is `{query: {content}, records: [{segment{…, document{id, data_source_type, name, doc_type,
  doc_metadata (>= 1.1)}}, child_chunks, score, tsne_position, files (>= 1.11), summary (newest)}]}`.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from flask import Blueprint, jsonify, request
from pydantic import BaseModel, Field, ValidationError

from dify_standin.errors import DifyHTTPError, invalid_param
from dify_standin.knowledge import behaviour, dataset_or_404, now, store
from dify_standin.retrieval import Hit, document_segments, rank, shown_keywords
from dify_standin.state import OWNER_ID, Dataset, Document

bp = Blueprint("retrieval", __name__, url_prefix="/v1")

DEFAULT_RETRIEVAL_MODEL = {  # hit_testing_service.py `default_retrieval_model`
    "search_method": "semantic_search",
    "reranking_enable": False,
    "reranking_model": {"reranking_provider_name": "", "reranking_model_name": ""},
    "top_k": 4,
    "score_threshold_enabled": False,
}
MAX_QUERY = 250


class RetrievalMethod(StrEnum):  # core/rag/retrieval/retrieval_methods.py
    SEMANTIC_SEARCH = "semantic_search"
    FULL_TEXT_SEARCH = "full_text_search"
    HYBRID_SEARCH = "hybrid_search"
    KEYWORD_SEARCH = "keyword_search"


class RetrievalModel(BaseModel):  # services/entities/knowledge_entities/knowledge_entities.py
    search_method: RetrievalMethod
    reranking_enable: bool
    reranking_model: dict[str, Any] | None = None
    reranking_mode: str | None = None
    top_k: int
    score_threshold_enabled: bool
    score_threshold: float | None = None
    weights: dict[str, Any] | None = None
    metadata_filtering_conditions: dict[str, Any] | None = None


class HitTestingPayload(BaseModel):  # controllers/console/datasets/hit_testing_base.py
    query: str = Field(max_length=MAX_QUERY)
    retrieval_model: RetrievalModel | None = None
    external_retrieval_model: dict[str, Any] | None = None
    attachment_ids: list[str] | None = None


def _args() -> dict[str, Any]:
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    if behaviour().pydantic_validation:
        try:
            args = HitTestingPayload.model_validate(body).model_dump(mode="json", exclude_none=True)
        except ValidationError as exc:
            raise invalid_param(str(exc)) from None
    else:
        args = {key: body.get(key) for key in ("query", "retrieval_model", "external_retrieval_model")}
    _check(args)
    return args


def _check(args: dict[str, Any]) -> None:
    """`HitTestingService.hit_testing_args_check`, with the messages of each era."""
    query = args.get("query")
    if not behaviour().multimodal_retrieval:
        if not query or len(str(query)) > MAX_QUERY:
            raise invalid_param("Query is required and cannot exceed 250 characters")
        return
    attachments = args.get("attachment_ids")
    if not attachments and not query:
        raise invalid_param("Query or attachment_ids is required")
    if query and len(query) > MAX_QUERY:
        raise invalid_param("Query cannot exceed 250 characters")


def _settings(dataset: Dataset, sent: dict[str, Any] | None) -> dict[str, Any]:
    model = sent or dataset.retrieval_model or DEFAULT_RETRIEVAL_MODEL
    for key in ("score_threshold_enabled", "reranking_enable"):  # read as model[key] in the service
        if key not in model:
            raise DifyHTTPError(500, "internal_server_error", repr(key))
    return model


def _searchable(document: Document, moment: float) -> bool:
    return document.indexing_status(moment) == "completed" and document.enabled and not document.archived


@bp.post("/datasets/<uuid:dataset_id>/retrieve")
@bp.post("/datasets/<uuid:dataset_id>/hit-testing")
def retrieve(dataset_id: uuid.UUID):
    knowledge = store()
    with knowledge.lock:
        dataset = dataset_or_404(dataset_id)
        args = _args()
        settings = _settings(dataset, args.get("retrieval_model"))
        moment = now()
        documents = {d.id: d for d in dataset.oldest_first() if _searchable(d, moment)}
        segments = [
            segment
            for document in documents.values()
            for segment in document_segments(document.id, document.batch, document.content.decode(errors="replace"))
        ]
        method = str(settings.get("search_method") or "semantic_search")
        known = method in {m.value for m in RetrievalMethod}  # reqparse era: an unknown method searches nothing
        hits = rank(
            str(args.get("query") or "") if known else "",
            segments,
            search_method=method,
            top_k=int(settings.get("top_k") or 4),
            score_threshold=settings.get("score_threshold") if settings["score_threshold_enabled"] else None,
        )
        records = [_record(hit, documents[hit.segment.document_id]) for hit in hits]
    return jsonify({"query": {"content": args.get("query") or ""}, "records": records})


def _record(hit: Hit, document: Document) -> dict[str, Any]:
    version = behaviour()
    segment = hit.segment
    shown_document: dict[str, Any] = {
        "id": document.id,
        "data_source_type": "upload_file",
        "name": document.name,
        "doc_type": None,
    }
    if version.has_doc_metadata:
        shown_document["doc_metadata"] = dict(document.metadata) or None
    words = len(segment.content.split())
    indexed = int(document.indexing_started + max(document.indexing_seconds, 0.0))
    shown_segment: dict[str, Any] = {
        "id": segment.id,
        "position": segment.position,
        "document_id": document.id,
        "content": segment.content,
        "answer": None,
        "word_count": words,
        "tokens": words * 2,
        "keywords": list(shown_keywords(segment)),
        "index_node_id": segment.index_node_id,
        "index_node_hash": segment.index_node_hash,
        "hit_count": 0,
        "enabled": True,
        "disabled_at": None,
        "disabled_by": None,
        "status": "completed",
        "created_by": OWNER_ID,
        "created_at": int(document.updated_at),
        "indexing_at": int(document.indexing_started),
        "completed_at": indexed,
        "error": None,
        "stopped_at": None,
        "document": shown_document,
    }
    record: dict[str, Any] = {"segment": shown_segment, "child_chunks": [], "score": hit.score, "tsne_position": None}
    if version.multimodal_retrieval:
        shown_segment["sign_content"] = segment.content
        record["files"] = []
    if version.retrieval_summary:
        record["summary"] = None
    return record
