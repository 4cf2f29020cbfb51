"""Document writes as Dify does them: upsert by name, updates only while available, metadata replaced whole,
deletes accepted in every version's answer shape.
"""

from __future__ import annotations

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


@pytest.mark.parametrize("version", ["0.15", "1.9", "1.14"])
def test_delete_succeeds_whatever_shape_the_version_answers(version):
    from dify_standin.processes import StandinProcess

    with StandinProcess(dify_version=version) as standin:
        dataset_id = standin.admin.create_dataset(
            "kb", indexing_technique="economy", process_rule={"mode": "automatic"}
        )["id"]
        client = dataset_client(standin, version=version)
        doc = client.create_document_by_file(dataset_id, "a.md", b"x").document
        client.delete_document(dataset_id, doc.id)
        updated_path_doc = client.create_document_by_file(dataset_id, "b.md", b"x").document
        client.update_document_by_file(dataset_id, updated_path_doc.id, "b.md", b"y")
        assert [d.name for d in client.iter_documents(dataset_id)] == ["b.md"]
