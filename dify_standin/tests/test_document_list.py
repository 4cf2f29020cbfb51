"""The document list (shared/dify-api.md §3.1), quirks included: pages of 20 by default and at most 100, `limit`
and `page` echoed as sent, `has_more` computed as `len(data) == requested limit` (so `true` on the last page of
an exact multiple and `false` above 100), order `created_at DESC, position DESC`, and `keyword` as PostgreSQL's
case-sensitive `LIKE %kw%` with its wildcards unescaped. It must stay fast at 10,000 documents."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests


@pytest.fixture
def hundred_fifty(api, dataset) -> str:
    api.admin.add_documents_bulk(dataset, 150)
    return dataset


def test_pages_default_to_20_and_echo_what_was_sent(api, hundred_fifty):
    first = api.documents(hundred_fifty)
    assert (len(first["data"]), first["limit"], first["page"], first["total"], first["has_more"]) == (
        20,
        20,
        1,
        150,
        True,
    )
    assert first["data"][0]["name"] == "doc-000149.md"  # newest first


def test_a_limit_over_100_returns_100_rows_and_says_there_is_nothing_more(api, hundred_fifty):
    page = api.documents(hundred_fifty, limit=150)
    assert (len(page["data"]), page["limit"], page["has_more"]) == (100, 150, False)


def test_at_an_exact_multiple_the_last_page_says_has_more_and_the_next_is_empty(api, dataset):
    api.admin.add_documents_bulk(dataset, 100)
    last = api.documents(dataset, limit=50, page=2)
    assert (len(last["data"]), last["has_more"]) == (50, True)
    after = api.documents(dataset, limit=50, page=3)
    assert (after["data"], after["has_more"], after["total"]) == ([], False, 100)


def test_a_short_last_page_says_no_more(api, hundred_fifty):
    last = api.documents(hundred_fifty, limit=100, page=2)
    assert (len(last["data"]), last["has_more"]) == (50, False)


def test_paging_visits_every_document_once_in_order(api, hundred_fifty):
    names = []
    for page in range(1, 5):
        names += [d["name"] for d in api.documents(hundred_fifty, limit=40, page=page)["data"]]
    assert names == [f"doc-{n:06d}.md" for n in range(149, -1, -1)]


def test_values_that_are_not_integers_fall_back_to_the_defaults(api, hundred_fifty):
    page = api.documents(hundred_fifty, page="x", limit="y")
    assert (len(page["data"]), page["page"], page["limit"]) == (20, 1, 20)
    zero = api.documents(hundred_fifty, page=0)
    assert (zero["page"], zero["data"][0]["name"]) == (0, "doc-000149.md")


def test_order_is_created_at_then_position_descending(api, dataset):
    api.admin.add_document(dataset, "old.md", created_at=1_600_000_000)
    api.admin.add_document(dataset, "same-1.md", created_at=1_700_000_000)
    api.admin.add_document(dataset, "same-2.md", created_at=1_700_000_000)
    api.admin.add_document(dataset, "older.md", created_at="2020-01-01T00:00:00Z")
    names = [d["name"] for d in api.documents(dataset)["data"]]
    assert names == ["same-2.md", "same-1.md", "old.md", "older.md"]


def test_keyword_is_a_case_sensitive_like_with_live_wildcards(api, dataset):
    for name in ("Report_2024.md", "report-2024.md", "notes.md"):
        api.admin.add_document(dataset, name)
    assert [d["name"] for d in api.documents(dataset, keyword="Report")["data"]] == ["Report_2024.md"]
    underscore = api.documents(dataset, keyword="port_2024")  # `_` matches any one character
    assert sorted(d["name"] for d in underscore["data"]) == ["Report_2024.md", "report-2024.md"]
    assert api.documents(dataset, keyword="r%24")["total"] == 2
    assert api.documents(dataset, keyword="nothing")["total"] == 0


def test_the_newest_version_filters_by_display_status(api_for):
    api = api_for("1.16")
    dataset = api.dataset()
    api.admin.add_document(dataset, "ready.md")
    api.admin.add_document(dataset, "queued.md", indexing_status="waiting")
    api.admin.add_document(dataset, "off.md", enabled=False)
    assert [d["name"] for d in api.documents(dataset, status="queuing")["data"]] == ["queued.md"]
    assert [d["name"] for d in api.documents(dataset, status="disabled")["data"]] == ["off.md"]


def test_documents_carry_the_fields_a_sync_reads(api, dataset):
    api.admin.add_document(dataset, "a.md", "one two three")
    (document,) = api.documents(dataset)["data"]
    assert document["indexing_status"] == "completed" and document["display_status"] == "available"
    assert document["data_source_detail_dict"]["upload_file"]["extension"] == "md"
    assert document["word_count"] == 3 and document["doc_metadata"] is None
    assert isinstance(document["created_at"], int)


@pytest.mark.slow
def test_10000_documents_page_completely_and_serve_concurrent_readers(api, dataset):
    """How fast is for benchmarks/paging*.py to print; here, that 400 concurrent page reads are all answered."""
    api.admin.add_documents_bulk(dataset, 10_000)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api.server.dataset_key}"
    url = f"{api.base}/datasets/{dataset}/documents"
    names = set()
    for page in range(1, 101):
        names.update(d["name"] for d in session.get(url, params={"limit": 100, "page": page}).json()["data"])
    assert len(names) == 10_000

    def fetch(page: int) -> int:
        with requests.Session() as own:
            own.headers["Authorization"] = f"Bearer {api.server.dataset_key}"
            return sum(own.get(url, params={"page": page + n}).status_code == 200 for n in range(100))

    with ThreadPoolExecutor(4) as pool:
        assert sum(pool.map(fetch, (1, 101, 201, 301))) == 400
