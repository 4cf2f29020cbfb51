"""Lists are read to the end in pages of 100, stopping on `total` — Dify's `has_more` is wrong at exact multiples.

Seed 000 read only the first page (20 documents) and re-created everything past it; here every document is
seen, with the fewest requests: ceil(N / 100), plus none for the empty page `has_more` would ask for.
"""

from __future__ import annotations

import math
from itertools import pairwise

import pytest


def _list_requests(standin) -> int:
    return sum(1 for r in standin.admin.request_log() if r["method"] == "GET" and r["path"].endswith("/documents"))


@pytest.mark.parametrize("count", [0, 1, 100, 200, 250])
def test_every_document_is_listed_with_the_minimum_of_requests(standin, datasets, dataset_id, count):
    for i in range(count):
        standin.admin.add_document(dataset_id, f"doc-{i:04d}.md", "text")
    standin.admin.clear_request_log()

    names = [d.name for d in datasets.iter_documents(dataset_id)]

    assert sorted(names) == [f"doc-{i:04d}.md" for i in range(count)]
    assert _list_requests(standin) == max(1, math.ceil(count / 100))


def test_document_metadata_is_read_from_the_list(standin, datasets, dataset_id):
    standin.admin.add_document(dataset_id, "a.md", "x", metadata={"source_key": "docs/a.md", "fingerprint": "abc"})
    (document,) = datasets.iter_documents(dataset_id)
    assert document.metadata == {"source_key": "docs/a.md", "fingerprint": "abc"}
    assert document.is_available


def test_workflow_logs_are_read_to_the_end_with_filters(standin, apps, app):
    rows = [
        {"created_at": 1_700_000_000 + i, "status": "failed" if i % 3 == 0 else "succeeded", "user": f"u{i % 4}"}
        for i in range(230)
    ]
    standin.admin.seed_logs(app["id"], rows)
    standin.admin.clear_request_log()

    logs = list(apps.iter_workflow_logs())
    failed = list(apps.iter_workflow_logs(status="failed"))

    assert len(logs) == 230 and len({log.run_id for log in logs}) == 230
    assert [log.created_at for log in logs] == sorted((log.created_at for log in logs), reverse=True)
    assert len(failed) == len([r for r in rows if r["status"] == "failed"])
    log_requests = [r for r in standin.admin.request_log() if r["path"].endswith("/workflows/logs")]
    assert len(log_requests) == 3 + 1


def test_workflow_log_window_is_half_open_on_iso_timestamps(standin, apps, app):
    from datetime import UTC, datetime

    base = datetime(2026, 11, 1, tzinfo=UTC).timestamp()
    standin.admin.seed_logs(app["id"], [{"created_at": base + s} for s in (-1, 0, 3600, 86399, 86400)])
    inside = list(
        apps.iter_workflow_logs(
            created_after=datetime(2026, 11, 1, tzinfo=UTC),
            created_before=datetime(2026, 11, 1, 23, 59, 59, tzinfo=UTC),
        )
    )
    assert sorted(log.created_at - int(base) for log in inside) == [0, 3600, 86399]


def test_a_document_added_while_paging_does_not_make_an_older_one_appear_twice(standin, datasets, dataset_id):
    """Lists are newest first: an insert between two pages pushes the last row of page 1 onto page 2. Every row
    is handed on once; the read sees `total` move and reads once more for rows it has not seen (the new one)."""
    standin.admin.add_documents_bulk(dataset_id, 150)
    listing = datasets.iter_documents(dataset_id)
    first_page = [next(listing) for _ in range(100)]
    standin.admin.add_document(dataset_id, "late.md", "x")
    rest = list(listing)

    ids = [d.id for d in first_page + rest]
    assert len(ids) == len(set(ids)) == 151
    assert "late.md" in {d.name for d in rest}


def test_a_document_deleted_while_paging_loses_no_other_document(standin, datasets, dataset_id):
    """A delete between two pages pulls the first row of page 2 onto page 1, past the reader: the pages disagree on
    `total`, and a second pass finds the row. (Each list page is held 300 ms before Dify reads it, so the delete,
    made after page 1 arrived, lands before pages 2 and 3 are read.)"""
    standin.admin.add_documents_bulk(dataset_id, 250)
    everything = {d.id for d in datasets.iter_documents(dataset_id)}
    standin.admin.set_faults([{"path": "/documents$", "method": "GET", "latency_ms": 300}])
    standin.admin.clear_request_log()
    listing = datasets.iter_documents(dataset_id)
    newest = next(listing)
    datasets.delete_document(dataset_id, newest.id)
    listed = [newest, *listing]

    ids = [d.id for d in listed]
    assert len(ids) == len(set(ids))
    assert set(ids) == everything  # the deleted one was seen before it went; no other is missing
    assert _list_requests(standin) > 3  # a second pass was needed


@pytest.mark.parametrize("concurrency", [1, 8])
def test_pages_after_the_first_are_read_concurrently_and_handed_on_in_order(standin, datasets, dataset_id, concurrency):
    standin.admin.add_documents_bulk(dataset_id, 1_000)
    sequential = [d.id for d in datasets.iter_documents(dataset_id)]
    datasets.read_concurrency = concurrency
    standin.admin.set_faults([{"path": "/documents$", "method": "GET", "latency_ms": 200}])
    standin.admin.clear_request_log()

    assert [d.id for d in datasets.iter_documents(dataset_id)] == sequential
    arrivals = sorted(r["time"] for r in standin.admin.request_log() if r["path"].endswith("/documents"))
    assert len(arrivals) == 10
    # one at a time, a page is asked for only after the last one was answered (200 ms on); concurrently, sooner
    overlapping = any(later - earlier < 0.2 for earlier, later in pairwise(arrivals[1:]))  # pages 2 to 10
    assert overlapping == (concurrency > 1)


def test_pages_capped_below_the_requested_limit_are_still_read_to_the_end(standin, datasets, dataset_id, monkeypatch):
    """Dify caps `limit` at 100 and answers `has_more: false` above it; counting rows, not pages, reads on."""
    import difyops_dagster.dify.client as client_module

    monkeypatch.setattr(client_module, "PAGE_SIZE", 250)
    standin.admin.add_documents_bulk(dataset_id, 250)
    assert len({d.id for d in datasets.iter_documents(dataset_id)}) == 250
