"""`DifyDatasetClient.retrieve` reads `POST /datasets/{id}/retrieve` into ranked records naming each document and
its source key (the sync's `source_key` metadata), so a retrieval gate can tell which source a query found. A
`keyword_search` answers no score (Dify's keyword index scores nothing): the rank is the order of the records."""

from __future__ import annotations

import pytest

from difyops_dagster.dify.errors import DifyError

KEYWORD = {"search_method": "keyword_search", "reranking_enable": False, "top_k": 3, "score_threshold_enabled": False}


@pytest.fixture
def handbook(standin, dataset_id) -> str:
    standin.admin.add_document(
        dataset_id, "refunds.md", "Refunds are paid within 14 days.", metadata={"source_key": "docs/refunds.md"}
    )
    standin.admin.add_document(dataset_id, "manual.md", "Refunds for parcels: ask support.")  # uploaded by hand
    return dataset_id


def test_records_come_ranked_with_document_name_source_key_and_no_keyword_score(datasets, handbook):
    records = datasets.retrieve(handbook, "refunds paid days", KEYWORD)
    assert [(r.rank, r.document_name, r.source_key, r.score) for r in records] == [
        (1, "refunds.md", "docs/refunds.md", None),
        (2, "manual.md", None, None),
    ]
    assert records[0].content == "Refunds are paid within 14 days." and records[0].segment_id


def test_other_search_methods_carry_scores(datasets, handbook):
    records = datasets.retrieve(handbook, "refunds paid days", {**KEYWORD, "search_method": "semantic_search"})
    assert [r.score for r in records] == [1.0, pytest.approx(0.3333)]


def test_without_a_retrieval_model_the_datasets_own_settings_apply(datasets, handbook):
    assert datasets.get_dataset(handbook).retrieval_model["search_method"] == "semantic_search"
    assert [r.document_name for r in datasets.retrieve(handbook, "refunds")] == ["refunds.md", "manual.md"]


def test_the_source_key_field_is_the_one_asked_for(standin, datasets, dataset_id):
    standin.admin.add_document(dataset_id, "a.md", "penguins", metadata={"origin": "s3://b/a.md"})
    assert datasets.retrieve(dataset_id, "penguins", KEYWORD, source_key_field="origin")[0].source_key == "s3://b/a.md"


def test_a_refused_query_is_a_named_error(datasets, handbook):
    with pytest.raises(DifyError) as error:
        datasets.retrieve(handbook, "refunds", {"top_k": 2})
    assert (error.value.status, error.value.code) == (400, "invalid_param")
    assert error.value.endpoint == f"POST /datasets/{handbook}/retrieve"
    assert "dataset-standin-key" not in str(error.value)
