"""The keyword scorer behind `/retrieve` (retrieval.py): deterministic, documented simplifications of Dify's jieba
keyword index — paragraphs as segments, lower-cased words without stop words as keywords, most matched keywords
first with ties in document order, `score: null` for `keyword_search` and matched / query keywords otherwise."""

from __future__ import annotations

from dify_standin.retrieval import document_segments, keywords, rank, split_segments


def test_keywords_are_distinct_lowercase_words_without_stop_words_or_single_letters():
    assert keywords("How do I get a Refund? Refund the ORDER, x") == ["get", "refund", "order"]


def test_paragraphs_become_segments_and_long_ones_are_cut_every_500_words():
    text = "first paragraph\n\n  \n" + " ".join(f"w{n}" for n in range(1200))
    segments = split_segments(text)
    assert segments[0] == "first paragraph"
    assert [len(s.split()) for s in segments[1:]] == [500, 500, 200]


def test_segment_ids_are_stable_for_a_batch_and_change_on_reupload():
    first = document_segments("doc-1", "batch-1", "one\n\ntwo")
    assert [s.id for s in first] == [s.id for s in document_segments("doc-1", "batch-1", "one\n\ntwo")]
    assert first[0].id != document_segments("doc-1", "batch-2", "one\n\ntwo")[0].id
    assert [s.position for s in first] == [1, 2]


def test_more_matched_keywords_rank_first_and_ties_keep_document_order():
    segments = [
        *document_segments("a", "b", "apples only"),
        *document_segments("b", "b", "apples and pears"),
        *document_segments("c", "b", "pears only"),
    ]
    hits = rank("apples pears", segments, search_method="keyword_search", top_k=5)
    assert [h.segment.document_id for h in hits] == ["b", "a", "c"]
    assert [h.score for h in hits] == [None, None, None]


def test_scores_and_threshold_apply_to_the_other_search_methods():
    segments = document_segments("a", "b", "apples and pears\n\napples")
    hits = rank("apples pears", segments, search_method="hybrid_search", top_k=5, score_threshold=0.6)
    assert [(h.segment.position, h.score) for h in hits] == [(1, 1.0)]


def test_a_query_without_keywords_finds_nothing():
    segments = document_segments("a", "b", "the and of")
    assert rank("the of", segments, search_method="keyword_search", top_k=3) == []
