"""The retrieval gate keeps the active colour when the standby's answers got worse: a golden query is a hit when
every source key it expects is in its top k (by `source_key` metadata, or by document name for a document without
it); the standby fails below `min_hit_rate`, when more than `max_drop` worse than the active colour, or when it
could not be asked at all. A keyword search carries no score, and the table says so instead of inventing one."""

from __future__ import annotations

import pytest

from difyops_dagster.sync.retrieval_gate import (
    TABLE_COLUMNS,
    ColourRetrieval,
    GoldenQuery,
    Retrieved,
    evaluate_retrieval,
    retrieval_model_for,
    score_query,
)

REFUNDS = GoldenQuery("how long do refunds take", ("docs/refunds.md",), 3)
SHIPPING = GoldenQuery("shipping times", ("docs/shipping.md", "docs/zones.md"), 2)


def found(*keys: str, scores: tuple[float | None, ...] = ()) -> ColourRetrieval:
    records = tuple(
        Retrieved(rank, key, key.rsplit("/", 1)[-1], scores[rank - 1] if scores else None)
        for rank, key in enumerate(keys, start=1)
    )
    return ColourRetrieval(records)


def verdict(standby, active=None, *, min_hit_rate=1.0, max_drop=0.0, queries=(REFUNDS, SHIPPING)):
    return evaluate_retrieval(queries, standby, active, min_hit_rate=min_hit_rate, max_drop=max_drop)


def test_a_query_is_a_hit_only_when_every_expected_key_is_in_its_top_k():
    both = score_query(SHIPPING, found("docs/zones.md", "docs/shipping.md"))
    assert both.hit and both.ranks == (("docs/shipping.md", 2), ("docs/zones.md", 1))
    one_too_deep = score_query(SHIPPING, found("docs/shipping.md", "docs/faq.md", "docs/zones.md"))
    assert not one_too_deep.hit and one_too_deep.found == 1
    assert one_too_deep.ranks == (("docs/shipping.md", 1), ("docs/zones.md", None))


def test_the_score_is_that_of_the_best_ranked_expected_record():
    score = score_query(REFUNDS, found("docs/faq.md", "docs/refunds.md", scores=(0.9, 0.7)))
    assert (score.hit, score.score) == (True, 0.7)


def test_a_document_without_source_key_metadata_is_matched_by_its_name():
    outcome = ColourRetrieval((Retrieved(1, None, "docs/refunds.md"), Retrieved(2, "other", "docs/refunds.md")))
    assert score_query(REFUNDS, outcome).ranks == (("docs/refunds.md", 1),)
    named_elsewhere = ColourRetrieval((Retrieved(1, "docs/other.md", "docs/refunds.md"),))
    assert not score_query(REFUNDS, named_elsewhere).hit


def test_a_standby_that_finds_every_golden_query_passes():
    result = verdict([found("docs/refunds.md"), found("docs/shipping.md", "docs/zones.md")])
    assert result.passed and result.standby_hit_rate == 1.0 and result.reasons == ()
    assert result.active_hit_rate is None and "passed" in result.summary()


def test_a_standby_that_no_longer_finds_a_golden_query_keeps_the_active_colour():
    active = [found("docs/refunds.md"), found("docs/shipping.md", "docs/zones.md")]
    result = verdict([found("docs/faq.md"), found("docs/shipping.md", "docs/zones.md")], active, min_hit_rate=0.5)
    assert not result.passed and (result.standby_hit_rate, result.active_hit_rate) == (0.5, 1.0)
    assert result.reasons == (
        "The standby hit rate 50% is 50% below the active colour's 100%, more than the allowed drop of 0%.",
    )
    assert result.table()[0]["standby_hit"] == "no" and result.table()[0]["active_hit"] == "yes"


def test_below_the_minimum_fails_even_without_an_active_colour():
    result = verdict([found("docs/faq.md"), found("docs/shipping.md", "docs/zones.md")], min_hit_rate=0.8)
    assert not result.passed and result.reasons == ("The standby hit rate 50% is below the minimum 80%.",)


@pytest.mark.parametrize(("max_drop", "passed"), [(0.5, True), (0.49, False)])
def test_a_drop_within_the_allowed_margin_passes(max_drop, passed):
    active = [found("docs/refunds.md"), found("docs/shipping.md", "docs/zones.md")]
    standby = [found("docs/faq.md"), found("docs/shipping.md", "docs/zones.md")]
    result = verdict(standby, active, min_hit_rate=0.5, max_drop=max_drop)
    assert result.passed is passed


def test_a_standby_that_could_not_be_asked_fails_and_says_why():
    failed = ColourRetrieval(error="HTTP 500 internal_server_error")
    result = verdict([failed, found("docs/shipping.md", "docs/zones.md")], min_hit_rate=0.5)
    assert not result.passed
    why = "1 query could not be retrieved from the standby colour (HTTP 500 internal_server_error)."
    assert result.reasons == (why,)
    assert result.table()[0]["standby_hit"] == "error: HTTP 500 internal_server_error"


def test_an_active_colour_that_could_not_be_asked_is_not_compared():
    standby = [found("docs/refunds.md"), found("docs/shipping.md", "docs/zones.md")]
    active = [ColourRetrieval(error="timeout"), found("docs/shipping.md", "docs/zones.md")]
    result = verdict(standby, active)
    assert result.passed and result.active_hit_rate is None
    assert result.reasons == ("Active colour not compared: 1 query failed (timeout).",)


def test_the_table_has_one_row_per_query_with_both_colours_and_no_invented_scores():
    standby = [found("docs/refunds.md", scores=(0.75,)), found("docs/zones.md")]
    active = [found("docs/faq.md", "docs/refunds.md"), found("docs/shipping.md", "docs/zones.md")]
    table = verdict(standby, active, min_hit_rate=0).table()
    assert [list(row) for row in table] == [list(TABLE_COLUMNS)] * 2
    assert table[0] == {
        "query": "how long do refunds take",
        "expected": "docs/refunds.md",
        "top_k": "3",
        "standby_hit": "yes",
        "standby_found": "1/1",
        "standby_rank": "docs/refunds.md: 1",
        "standby_score": "0.750",
        "active_hit": "yes",
        "active_found": "1/1",
        "active_rank": "docs/refunds.md: 2",
        "active_score": "n/a",
    }
    assert table[1]["standby_rank"] == "docs/shipping.md: -, docs/zones.md: 1"
    assert verdict(standby, min_hit_rate=0).table()[0]["active_hit"] == "-"


def test_the_gate_needs_queries_and_one_result_per_query():
    with pytest.raises(ValueError, match="at least one golden query"):
        verdict([], queries=())
    with pytest.raises(ValueError, match="one retrieval per golden query"):
        verdict([found("docs/refunds.md")])


def test_the_retrieval_model_is_the_datasets_with_the_querys_k_and_an_optional_forced_method():
    own = {
        "search_method": "hybrid_search",
        "reranking_enable": True,
        "top_k": 2,
        "score_threshold_enabled": True,
        "score_threshold": 0.4,
        "reranking_model": {"reranking_model_name": "rerank-1"},
    }
    assert retrieval_model_for(own, 5) == {**own, "top_k": 5}
    forced = retrieval_model_for(own, 5, "keyword_search")
    assert (forced["search_method"], forced["reranking_enable"], forced["score_threshold"]) == (
        "keyword_search",
        False,
        0.4,
    )
    defaults = {"search_method": "semantic_search", "reranking_enable": False, "score_threshold_enabled": False}
    assert retrieval_model_for({}, 3) == {**defaults, "top_k": 3}
    assert own["top_k"] == 2
