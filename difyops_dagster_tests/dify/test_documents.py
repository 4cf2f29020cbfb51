"""Document writes as Dify does them: upsert by name, updates only while available, metadata replaced whole,
deletes accepted in every version's answer shape.
"""

from __future__ import annotations

import threading
import time

import pytest

from difyops_dagster.dify.errors import DifyError
from difyops_dagster_tests.dify.conftest import dataset_client


def _wait_available(client, dataset_id, batch, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = client.indexing_status(dataset_id, batch)
        if all(s.finished for s in statuses):
            return statuses
        time.sleep(0.05)
    raise AssertionError("indexing did not finish")


def test_create_update_and_delete_a_document(standin, datasets, dataset_id):
    created = datasets.create_document_by_file(dataset_id, "notes.md", b"first")
    assert _wait_available(datasets, dataset_id, created.batch)[0].indexing_status == "completed"
    updated = datasets.update_document_by_file(dataset_id, created.document.id, "notes.md", b"second version")
    assert updated.document.id == created.document.id
    _wait_available(datasets, dataset_id, updated.batch)
    datasets.delete_document(dataset_id, created.document.id)
    assert list(datasets.iter_documents(dataset_id)) == []


def test_a_same_named_upload_reuses_the_document_unless_duplicate_is_false(standin, datasets, dataset_id):
    first = datasets.create_document_by_file(dataset_id, "a.md", b"1")
    again = datasets.create_document_by_file(dataset_id, "a.md", b"2")
    forced = datasets.create_document_by_file(dataset_id, "a.md", b"3", duplicate=False)
    assert again.document.id == first.document.id
    assert forced.document.id != first.document.id
    assert len(list(datasets.iter_documents(dataset_id))) == 2


def test_updating_a_document_that_is_still_indexing_is_refused(standin, datasets, dataset_id):
    standin.admin.set_indexing(seconds=5)
    created = datasets.create_document_by_file(dataset_id, "slow.md", b"x")
    with pytest.raises(DifyError, match="Document is not available"):
        datasets.update_document_by_file(dataset_id, created.document.id, "slow.md", b"y")


def test_indexing_that_ends_in_error_is_reported_by_the_batch_status(standin, datasets, dataset_id):
    standin.admin.set_indexing(error_names=r"^broken")
    created = datasets.create_document_by_file(dataset_id, "broken.md", b"x")
    (status,) = _wait_available(datasets, dataset_id, created.batch)
    assert status.indexing_status == "error" and status.error


def test_metadata_is_written_whole_and_read_back_from_the_list(standin, datasets, dataset_id):
    doc = datasets.create_document_by_file(dataset_id, "m.md", b"x").document
    fields = datasets.ensure_metadata_fields(dataset_id, {"source_key": "string", "fingerprint": "string"})
    assert datasets.ensure_metadata_fields(dataset_id, {"source_key": "string"})["source_key"] == fields["source_key"]
    datasets.set_document_metadata(dataset_id, [(doc.id, {"source_key": "docs/m.md", "fingerprint": "f1"})], fields)
    datasets.set_document_metadata(dataset_id, [(doc.id, {"source_key": "docs/m.md", "fingerprint": "f2"})], fields)
    (listed,) = datasets.iter_documents(dataset_id)
    assert listed.metadata == {"source_key": "docs/m.md", "fingerprint": "f2"}


def test_the_first_upload_needs_its_options_and_sends_them_as_the_data_json_part(standin, datasets):
    dataset_id = standin.admin.create_dataset("bare")["id"]  # no indexing technique, no process rule yet
    with pytest.raises(DifyError, match="indexing_technique is required"):
        datasets.create_document_by_file(dataset_id, "a.md", b"x")
    options = {"indexing_technique": "economy", "process_rule": {"mode": "automatic"}, "doc_form": "text_model"}
    created = datasets.create_document_by_file(dataset_id, "a.md", b"x", options=options)
    assert created.document.name == "a.md" and created.batch
    assert datasets.get_dataset(dataset_id).indexing_technique == "economy"
    with pytest.raises(DifyError, match="doc_form"):
        datasets.create_document_by_file(dataset_id, "b.md", b"x", options={"doc_form": "qa_model"})


def test_text_documents_are_created_and_updated_like_files(standin, datasets, dataset_id):
    created = datasets.create_document_by_text(dataset_id, "note", "first text")
    _wait_available(datasets, dataset_id, created.batch)
    updated = datasets.update_document_by_text(dataset_id, created.document.id, "note v2", "second text")
    assert updated.document.id == created.document.id
    _wait_available(datasets, dataset_id, updated.batch)
    assert datasets.get_document(dataset_id, created.document.id).name == "note v2"


@pytest.mark.parametrize("version", ["0.15", "1.9", "1.14"])
def test_every_document_call_reaches_its_versions_route_and_reads_its_answer(version):
    """Underscore routes (0.x), hyphens (1.x), PATCH updates (1.14+); deletes answered in each era's shape."""
    from dify_standin.processes import StandinProcess

    with StandinProcess(dify_version=version) as standin:
        dataset_id = standin.admin.create_dataset(
            "kb", indexing_technique="economy", process_rule={"mode": "automatic"}
        )["id"]
        client = dataset_client(standin, version=version)
        doc = client.create_document_by_file(dataset_id, "a.md", b"x").document
        client.delete_document(dataset_id, doc.id)
        by_file = client.create_document_by_file(dataset_id, "b.md", b"x").document
        client.update_document_by_file(dataset_id, by_file.id, "b.md", b"y")
        by_text = client.create_document_by_text(dataset_id, "c", "x").document
        client.update_document_by_text(dataset_id, by_text.id, "c", "y")
        assert sorted(d.name for d in client.iter_documents(dataset_id)) == ["b.md", "c"]
        routes = {(r["method"], r["route"]) for r in standin.admin.request_log()}
    spelled = "create_by_file" if version == "0.15" else "create-by-file"
    assert ("POST", f"/v1/datasets/<uuid:dataset_id>/document/{spelled}") in routes
    if version == "1.14":
        assert ("PATCH", "/v1/datasets/<uuid:dataset_id>/documents/<uuid:document_id>") in routes


@pytest.mark.parametrize("version", ["1.8", "1.9"])
def test_a_metadata_write_replaces_every_value_with_or_without_partial_update(version):
    from dify_standin.processes import StandinProcess

    with StandinProcess(dify_version=version) as standin:
        dataset_id = standin.admin.create_dataset(
            "kb", indexing_technique="economy", process_rule={"mode": "automatic"}
        )["id"]
        client = dataset_client(standin, version=version)
        doc = client.create_document_by_file(dataset_id, "a.md", b"x").document
        fields = client.ensure_metadata_fields(dataset_id, {"a": "string", "b": "string"})
        client.set_document_metadata(dataset_id, [(doc.id, {"a": "1", "b": "2"})], fields)
        client.set_document_metadata(dataset_id, [(doc.id, {"a": "3"})], fields)
        (listed,) = client.iter_documents(dataset_id)
    assert listed.metadata == {"a": "3"}


def test_two_runs_ensuring_the_same_metadata_field_at_once_both_end_with_that_one_field(standin, datasets, dataset_id):
    """Both list (no field yet), both create: the loser's "already exists" is read back, not raised."""
    # latency runs before the handler: slow lists, and creates slower still, so both lists read an empty set
    standin.admin.set_faults(
        [
            {"path": "/metadata$", "method": "GET", "latency_ms": 300},
            {"path": "/metadata$", "method": "POST", "latency_ms": 600},
        ]
    )
    results: list = []
    together = threading.Barrier(2, timeout=10)

    def ensure() -> None:
        together.wait()  # both lists are in flight before either create
        results.append(datasets.ensure_metadata_fields(dataset_id, {"etag": "string"}))

    threads = [threading.Thread(target=ensure) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(results) == 2 and results[0] == results[1]
    creates = [r for r in standin.admin.request_log() if r["method"] == "POST" and r["path"].endswith("/metadata")]
    assert sorted(r["status"] for r in creates) == [201, 400]
