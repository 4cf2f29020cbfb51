"""Document metadata (shared/dify-api.md §5), as Dify's MetadataService does it: fields unique per dataset and
never a built-in name; values stored by field name and listed in `doc_metadata` (null while a document has none,
`[]` in the newest version) followed by Dify's five built-in fields; every write replaces all of a document's
values unless the version knows `partial_update` (1.9+); concurrent writes to one document are refused."""

from __future__ import annotations

import threading

import pytest

from dify_standin.tests.conftest import Api


def _field(api: Api, dataset: str, name: str, kind: str = "string") -> dict:
    response = api.ds("POST", f"/datasets/{dataset}/metadata", json={"type": kind, "name": name})
    assert response.status_code == 201, response.text
    return response.json()


def _write(api: Api, dataset: str, document: str, items: list[dict], partial: bool | None = None):
    operation: dict = {"document_id": document, "metadata_list": items}
    if partial is not None:
        operation["partial_update"] = partial
    return api.ds("POST", f"/datasets/{dataset}/documents/metadata", json={"operation_data": [operation]})


def _values(api: Api, dataset: str) -> dict:
    (document,) = api.documents(dataset)["data"]
    return {m["name"]: m["value"] for m in document["doc_metadata"] or () if m["id"] != "built-in"}


def test_fields_are_created_listed_with_counts_renamed_and_deleted(api, dataset):
    document = api.upload(dataset, "a.md").json()["document"]["id"]
    etag = _field(api, dataset, "etag")
    assert set(etag) == {"id", "name", "type"}
    _write(api, dataset, document, [{"id": etag["id"], "name": "etag", "value": "e1"}])
    listed = api.ds("GET", f"/datasets/{dataset}/metadata").json()
    assert listed == {"doc_metadata": [{**etag, "count": 1}], "built_in_field_enabled": False}
    renamed = api.ds("PATCH", f"/datasets/{dataset}/metadata/{etag['id']}", json={"name": "version"}).json()
    assert renamed == {**etag, "name": "version"}
    assert _values(api, dataset) == {"version": "e1"}  # the value moved with the name
    deleted = api.ds("DELETE", f"/datasets/{dataset}/metadata/{etag['id']}")
    assert (deleted.status_code, deleted.text) == (204, "")
    assert _values(api, dataset) == {}
    again = api.ds("DELETE", f"/datasets/{dataset}/metadata/{etag['id']}")
    assert (again.status_code, again.json()["message"]) == (400, "Metadata not found.")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("etag", "Metadata name already exists."),
        ("document_name", "Metadata name already exists in Built-in fields."),
        ("n" * 256, "Metadata name cannot exceed 255 characters."),
    ],
)
def test_field_names_are_unique_short_and_not_built_in(api, dataset, name, message):
    _field(api, dataset, "etag")
    response = api.ds("POST", f"/datasets/{dataset}/metadata", json={"type": "string", "name": name})
    assert response.json() == {"code": "invalid_param", "message": message, "status": 400}


def test_each_write_replaces_every_value_unless_partial_update(api, dataset):
    document = api.upload(dataset, "a.md").json()["document"]["id"]
    a, b = _field(api, dataset, "a"), _field(api, dataset, "b")
    _write(
        api, dataset, document, [{"id": a["id"], "name": "a", "value": "1"}, {"id": b["id"], "name": "b", "value": 2}]
    )
    assert _values(api, dataset) == {"a": "1", "b": 2}
    _write(api, dataset, document, [{"id": a["id"], "name": "a", "value": "3"}])
    assert _values(api, dataset) == {"a": "3"}
    _write(api, dataset, document, [{"id": b["id"], "name": "b", "value": None}], partial=True)
    assert _values(api, dataset) == {"a": "3", "b": None}


@pytest.mark.parametrize("version", ["1.9.2", "1.10.0"])
def test_before_1_10_1_partial_update_is_ignored_and_every_write_replaces(api_for, version):
    api = api_for(version)
    dataset = api.dataset()
    document = api.upload(dataset, "a.md").json()["document"]["id"]
    a, b = _field(api, dataset, "a"), _field(api, dataset, "b")
    _write(api, dataset, document, [{"id": a["id"], "name": "a", "value": "1"}])
    _write(api, dataset, document, [{"id": b["id"], "name": "b", "value": "2"}], partial=True)
    assert _values(api, dataset) == {"b": "2"}


def test_listed_metadata_ends_with_the_five_built_in_fields(api, dataset):
    document = api.admin.add_document(dataset, "a.md", metadata={"etag": "e1"})
    names = [(m["id"] == "built-in", m["name"]) for m in document["doc_metadata"]]
    assert names == [
        (False, "etag"),
        (True, "document_name"),
        (True, "uploader"),
        (True, "upload_date"),
        (True, "last_update_date"),
        (True, "source"),
    ]
    assert document["doc_metadata"][1]["value"] == "a.md"


@pytest.mark.parametrize(("version", "empty"), [("1.13.2", None), ("1.16", [])])
def test_a_document_without_values_lists_null_then_an_empty_list(api_for, version, empty):
    api = api_for(version)
    dataset = api.dataset()
    api.admin.add_document(dataset, "a.md")
    assert api.documents(dataset)["data"][0]["doc_metadata"] == empty


def test_values_are_stored_by_the_name_sent_without_checking_it_against_the_id(api, dataset):
    document = api.upload(dataset, "a.md").json()["document"]["id"]
    etag = _field(api, dataset, "etag")
    assert _write(api, dataset, document, [{"id": etag["id"], "name": "typo", "value": "e1"}]).status_code == 200
    assert _values(api, dataset) == {"etag": None}
    assert api.admin.documents(dataset)[0]["metadata"] == {"typo": "e1"}


def test_an_unknown_document_fails_the_call_after_earlier_operations_were_written(api, dataset):
    document = api.upload(dataset, "a.md").json()["document"]["id"]
    etag = _field(api, dataset, "etag")
    item = {"id": etag["id"], "name": "etag", "value": "e1"}
    operations = [
        {"document_id": document, "metadata_list": [item]},
        {"document_id": "00000000-0000-4000-8000-000000000000", "metadata_list": [item]},
    ]
    response = api.ds("POST", f"/datasets/{dataset}/documents/metadata", json={"operation_data": operations})
    assert response.json() == {"code": "invalid_param", "message": "Document not found.", "status": 400}
    assert _values(api, dataset) == {"etag": "e1"}


def test_concurrent_writes_to_one_document_get_difys_lock_error(api, dataset):
    document = api.upload(dataset, "a.md").json()["document"]["id"]
    etag = _field(api, dataset, "etag")
    api.admin.set_metadata_hold(0.5)
    results: list[int] = []

    def write(value: str) -> None:
        results.append(_write(api, dataset, document, [{"id": etag["id"], "name": "etag", "value": value}]).status_code)

    first = threading.Thread(target=write, args=("first",))
    first.start()
    threading.Event().wait(0.15)
    refused = _write(api, dataset, document, [{"id": etag["id"], "name": "etag", "value": "second"}])
    first.join(timeout=5)
    assert results == [200]
    assert refused.json()["message"] == "Another document metadata operation is running, please wait a moment."
    assert _values(api, dataset) == {"etag": "first"}


def test_built_in_fields_toggle_and_their_routes_move_with_the_version(api_for):
    api = api_for("1.13.2")
    dataset = api.dataset()
    api.admin.add_document(dataset, "a.md")
    fields = api.ds("GET", f"/datasets/{dataset}/metadata/built-in").json()["fields"]
    assert [f["name"] for f in fields][:2] == ["document_name", "uploader"]
    assert api.ds("POST", f"/datasets/{dataset}/metadata/built-in/enable").json() == {"result": "success"}
    assert api.ds("GET", f"/datasets/{dataset}").json()["doc_metadata"][0]["id"] == "built-in"
    assert api.documents(dataset)["data"][0]["doc_metadata"][0]["name"] == "document_name"
    old = api_for("1.8.1")
    assert old.ds("GET", "/datasets/metadata/built-in").status_code == 200
    assert old.ds("GET", f"/datasets/{old.dataset()}/metadata/built-in").status_code == 404


def test_before_1_1_there_are_no_metadata_routes(api_for):
    api = api_for("1.0")
    dataset = api.dataset()
    response = api.ds("POST", f"/datasets/{dataset}/metadata", json={"type": "string", "name": "etag"})
    assert response.status_code == 404 and "doc_metadata" not in api.admin.add_document(dataset, "a.md")
