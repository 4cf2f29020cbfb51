"""`POST /v1/datasets/{id}/retrieve` as Dify's hit-testing service answers it (retrieval_api.py cites the source):
`{query: {content}, records: [{segment{…, document{…}}, child_chunks, score, tsne_position, …}]}` over the indexed
(completed, enabled, not archived) documents, ranked by the stand-in's keyword scorer. `keyword_search` — what a
Dify without an embedding model can run — answers Dify's `score: null`; the request's `retrieval_model` replaces
the dataset's own settings, which replace the service default (top_k 4)."""

from __future__ import annotations

import pytest

from dify_standin.tests.conftest import Api

KEYWORD = {"search_method": "keyword_search", "reranking_enable": False, "top_k": 3, "score_threshold_enabled": False}


def retrieve(api: Api, dataset_id: str, query: str, retrieval_model: dict | None = KEYWORD, **body):
    payload = {"query": query, **body}
    if retrieval_model is not None:
        payload["retrieval_model"] = retrieval_model
    return api.ds("POST", f"/datasets/{dataset_id}/retrieve", json=payload)


def names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [record["segment"]["document"]["name"] for record in response.json()["records"]]


@pytest.fixture
def handbook(api) -> str:
    dataset = api.dataset("handbook")
    api.admin.add_document(
        dataset,
        "refunds.md",
        "Refund policy\n\nRefunds are paid to the original card within 14 days.",
        metadata={"source_key": "docs/refunds.md"},
    )
    api.admin.add_document(dataset, "shipping.md", "Shipping takes three days. Refunds for lost parcels are paid.")
    api.admin.add_document(dataset, "careers.md", "We are hiring engineers.")
    return dataset


def test_keyword_search_answers_difys_shape_with_null_scores(api, handbook):
    response = retrieve(api, handbook, "refunds paid card")
    body = response.json()
    assert body["query"] == {"content": "refunds paid card"}
    best = body["records"][0]
    assert set(best) == {"segment", "child_chunks", "score", "tsne_position", "files"}
    assert best["score"] is None and best["child_chunks"] == [] and best["tsne_position"] is None
    segment = best["segment"]
    assert segment["content"] == "Refunds are paid to the original card within 14 days." and segment["position"] == 2
    assert segment["document"] == {
        "id": segment["document_id"],
        "data_source_type": "upload_file",
        "name": "refunds.md",
        "doc_type": None,
        "doc_metadata": {"source_key": "docs/refunds.md"},
    }
    assert segment["status"] == "completed" and segment["enabled"] is True and "refunds" in segment["keywords"]


def test_segments_carrying_more_of_the_query_rank_first_and_top_k_cuts(api, handbook):
    assert names(retrieve(api, handbook, "refunds paid card")) == ["refunds.md", "shipping.md"]
    assert names(retrieve(api, handbook, "refunds paid card", {**KEYWORD, "top_k": 1})) == ["refunds.md"]
    assert names(retrieve(api, handbook, "unrelated words only")) == []


def test_the_same_query_answers_the_same_records_every_time(api, handbook):
    first, second = retrieve(api, handbook, "refunds paid"), retrieve(api, handbook, "refunds paid")
    assert first.json() == second.json()


@pytest.mark.parametrize(
    ("seed", "found"),
    [
        ({"indexing_status": "indexing"}, False),
        ({"enabled": False}, False),
        ({"archived": True}, False),
        ({}, True),
    ],
)
def test_only_indexed_enabled_unarchived_documents_are_searched(api, seed, found):
    dataset = api.dataset("kb")
    api.admin.add_document(dataset, "only.md", "penguins live in the south", **seed)
    assert names(retrieve(api, dataset, "penguins")) == (["only.md"] if found else [])


def test_other_search_methods_rank_alike_with_a_score_and_honour_the_threshold(api, handbook):
    semantic = {**KEYWORD, "search_method": "semantic_search"}
    records = retrieve(api, handbook, "refunds paid card", semantic).json()["records"]
    assert [r["score"] for r in records] == [1.0, pytest.approx(0.6667)]
    strict = {**semantic, "score_threshold_enabled": True, "score_threshold": 0.9}
    assert names(retrieve(api, handbook, "refunds paid card", strict)) == ["refunds.md"]
    off = {**semantic, "score_threshold_enabled": False, "score_threshold": 0.9}
    assert len(names(retrieve(api, handbook, "refunds paid card", off))) == 2


def test_without_a_retrieval_model_the_dataset_settings_then_the_service_default_apply(api):
    dataset = api.dataset("many")
    for n in range(6):
        api.admin.add_document(dataset, f"doc{n}.md", f"widget number {n}")
    default = retrieve(api, dataset, "widget", None).json()["records"]
    assert len(default) == 4 and all(isinstance(r["score"], float) for r in default)  # semantic, top_k 4
    created = api.ds("POST", "/datasets", json={"name": "own", "retrieval_model": {**KEYWORD, "top_k": 2}})
    own = created.json()["id"]
    for n in range(3):
        api.admin.add_document(own, f"doc{n}.md", f"widget number {n}")
    records = retrieve(api, own, "widget", None).json()["records"]
    assert len(records) == 2 and records[0]["score"] is None


def test_hit_testing_is_the_same_route_under_its_older_name(api, handbook):
    response = api.ds(
        "POST", f"/datasets/{handbook}/hit-testing", json={"query": "refunds", "retrieval_model": KEYWORD}
    )
    assert names(response) == ["refunds.md", "shipping.md"]


def test_an_unknown_dataset_is_not_found_and_the_app_key_is_refused(api, handbook):
    missing = retrieve(api, "00000000-0000-4000-8000-000000000999", "refunds")
    assert (missing.status_code, missing.json()["message"]) == (404, "Dataset not found.")
    refused = api.app("POST", f"/datasets/{handbook}/retrieve", json={"query": "refunds"})
    assert refused.status_code == 401


def test_from_1_11_an_empty_or_long_query_is_refused_with_the_multimodal_messages(api, handbook):
    empty = retrieve(api, handbook, "")
    assert (empty.status_code, empty.json()["message"]) == (400, "Query or attachment_ids is required")
    long = retrieve(api, handbook, "x" * 251)
    assert long.status_code == 400 and "1 validation error for HitTestingPayload\nquery\n" in long.json()["message"]


def test_from_1_10_a_retrieval_model_missing_its_required_fields_is_a_validation_error(api, handbook):
    response = retrieve(api, handbook, "refunds", {"top_k": 2})
    assert response.status_code == 400 and response.json()["code"] == "invalid_param"
    message = response.json()["message"]
    assert message.startswith("3 validation errors for HitTestingPayload\nretrieval_model.search_method\n")


@pytest.mark.parametrize("version", ["1.7.2", "1.9.1"])
def test_before_1_10_the_query_check_is_one_message_and_a_partial_model_crashes(api_for, version):
    api = api_for(version)
    dataset = api.dataset("kb")
    api.admin.add_document(dataset, "a.md", "refunds are paid")
    empty = retrieve(api, dataset, "")
    assert (empty.status_code, empty.json()["message"]) == (400, "Query is required and cannot exceed 250 characters")
    crash = retrieve(api, dataset, "refunds", {"search_method": "keyword_search", "top_k": 2})
    assert (crash.status_code, crash.json()["code"]) == (500, "internal_server_error")
    unknown = retrieve(api, dataset, "refunds", {**KEYWORD, "search_method": "vector_magic"})
    assert names(unknown) == []
    record = retrieve(api, dataset, "refunds").json()["records"][0]
    assert "files" not in record and "sign_content" not in record["segment"]
    assert "doc_metadata" in record["segment"]["document"]


def test_the_newest_records_carry_a_summary(api_for):
    api = api_for("newest")
    dataset = api.dataset("kb")
    api.admin.add_document(dataset, "a.md", "refunds are paid")
    assert retrieve(api, dataset, "refunds").json()["records"][0]["summary"] is None
