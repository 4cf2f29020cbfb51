"""Updating, deleting and watching documents (shared/dify-api.md §3.1, §4): indexing runs waiting -> parsing ->
cleaning -> splitting -> indexing -> completed over `--indexing-seconds` (or ends in `error`); updates only while
`available` (400 `Document is not available`), a new file renames the document unless `name` is sent, the
document keeps its id and batch; 413/415 on update; delete answers per version and refuses while indexing."""

from __future__ import annotations

import json
import time

import pytest

from dify_standin.tests.conftest import Api


def _status(api: Api, dataset: str, batch: str) -> dict:
    (status,) = api.ds("GET", f"/datasets/{dataset}/documents/{batch}/indexing-status").json()["data"]
    return status


def test_indexing_passes_every_stage_in_order_and_fills_the_stage_times(api, dataset):
    api.admin.set_indexing(seconds=1.0)
    batch = api.upload(dataset, "a.md").json()["batch"]
    seen: list[str] = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = _status(api, dataset, batch)
        if not seen or seen[-1] != status["indexing_status"]:
            seen.append(status["indexing_status"])
        if status["indexing_status"] == "completed":
            break
        time.sleep(0.02)
    order = ["waiting", "parsing", "cleaning", "splitting", "indexing", "completed"]
    assert seen[-1] == "completed" and seen == [s for s in order if s in seen] and len(seen) >= 4
    assert status["completed_at"] >= status["splitting_completed_at"] >= status["processing_started_at"]
    assert status["completed_segments"] == status["total_segments"] >= 1


def test_an_unknown_batch_is_404_documents_not_found(api, dataset):
    response = api.ds("GET", f"/datasets/{dataset}/documents/20240101000000123456/indexing-status")
    assert response.json() == {"code": "not_found", "message": "Documents not found.", "status": 404}


def test_indexing_ends_in_error_for_matching_names_and_oversized_segments(api, dataset):
    api.admin.set_indexing(error_names="^bad")
    batch = api.upload(dataset, "bad.md").json()["batch"]
    status = _status(api, dataset, batch)
    assert status["indexing_status"] == "error" and status["error"] and status["stopped_at"]
    segmentation = {"separator": "\n", "max_tokens": 5000}
    rule = {"mode": "custom", "rules": {"pre_processing_rules": [], "segmentation": segmentation}}
    big = api.upload(dataset, "big.md", data=json.dumps({"process_rule": rule})).json()
    assert big["document"]["indexing_status"] == "error"
    assert big["document"]["error"] == "Custom segment length should be between 50 and 4000."
    assert {d["display_status"] for d in api.documents(dataset)["data"]} == {"error"}


@pytest.mark.parametrize(
    ("seed", "fields"),
    [
        ("queuing", {"indexing_status": "waiting"}),
        ("indexing", {"indexing_status": "splitting"}),
        ("error", {"indexing_status": "error"}),
        ("paused", {"indexing_status": "paused"}),
        ("disabled", {"enabled": False}),
        ("archived", {"archived": True}),
    ],
)
def test_a_document_that_is_not_available_cannot_be_updated(api, dataset, seed, fields):
    document = api.admin.add_document(dataset, "a.md", "x", **fields)
    assert document["display_status"] == seed
    base = f"/datasets/{dataset}/documents/{document['id']}"
    by_text = api.ds("POST", base + "/update-by-text", json={"name": "a.md", "text": "y"})
    by_file = api.ds("POST", base + "/update-by-file", files={"file": ("a.md", b"y")})
    for response in (by_text, by_file):
        assert response.json() == {"code": "invalid_param", "message": "Document is not available", "status": 400}


def test_an_update_keeps_id_and_batch_renames_to_the_file_and_reindexes(api, dataset):
    created = api.upload(dataset, "a.md").json()
    base = f"/datasets/{dataset}/documents/{created['document']['id']}"
    api.admin.set_indexing(seconds=0.3)
    updated = api.ds("POST", base + "/update-by-file", files={"file": ("renamed.md", b"new text")}).json()
    assert (updated["document"]["id"], updated["batch"]) == (created["document"]["id"], created["batch"])
    assert updated["document"]["name"] == "renamed.md" and updated["document"]["indexing_status"] == "waiting"
    deadline = time.monotonic() + 5
    while _status(api, dataset, created["batch"])["indexing_status"] != "completed" and time.monotonic() < deadline:
        time.sleep(0.05)
    named = api.ds(
        "POST", base + "/update_by_file", files={"file": ("other.md", b"x")}, data={"data": '{"name": "kept.md"}'}
    )
    assert named.json()["document"]["name"] == "kept.md"
    assert api.documents(dataset, keyword="kept")["total"] == 1


def test_update_by_text_needs_a_name_with_the_text(api, dataset):
    document = api.upload(dataset, "a.md").json()["document"]["id"]
    base = f"/datasets/{dataset}/documents/{document}"
    assert api.ds("POST", base + "/update-by-text", json={"text": "x"}).status_code == 400
    renamed = api.ds("POST", base + "/update-by-text", json={"name": "note", "text": "x"}).json()["document"]
    assert renamed["name"] == "note" and renamed["data_source_detail_dict"]["upload_file"]["extension"] == "txt"


def test_update_rejects_type_and_size_with_415_and_413(api, dataset):
    document = api.upload(dataset, "a.md").json()["document"]["id"]
    path = f"/datasets/{dataset}/documents/{document}/update-by-file"
    wrong = api.ds("POST", path, files={"file": ("a.exe", b"x")})
    assert wrong.json() == {"code": "unsupported_file_type", "message": "File type not allowed.", "status": 415}
    api.admin.set_upload_limit(3)
    big = api.ds("POST", path, files={"file": ("a.md", b"xxxx")})
    assert big.json() == {"code": "file_too_large", "message": "File size exceeded. 4 > 3", "status": 413}


def test_an_unknown_document_update_is_404(api, dataset):
    response = api.ds(
        "POST", f"/datasets/{dataset}/documents/00000000-0000-4000-8000-000000000000/update-by-text", json={"name": "a"}
    )
    assert response.json()["message"] == "Document not found" and response.status_code == 404


@pytest.mark.parametrize(("version", "status"), [("1.13.2", 405), ("1.16", 200)])
def test_patch_updates_a_document_only_in_the_newest_version(api_for, version, status):
    api = api_for(version)
    dataset = api.dataset()
    document = api.upload(dataset, "a.md").json()["document"]["id"]
    response = api.ds("PATCH", f"/datasets/{dataset}/documents/{document}", files={"file": ("b.md", b"y")})
    assert response.status_code == status
    if status == 405:
        assert response.json()["code"] == "method_not_allowed"
    else:
        assert response.json()["document"]["name"] == "b.md"


@pytest.mark.parametrize(
    ("version", "status", "body"),
    [
        ("0.15", 200, '{"result":"success"}'),
        ("1.3.0", 200, '{"result":"success"}'),
        ("1.4.0", 200, "204"),
        ("1.12.1", 200, "204"),
        ("1.13.0", 204, ""),
        ("1.16", 204, ""),
    ],
)
def test_delete_answers_as_each_version_did(api_for, version, status, body):
    api = api_for(version)
    dataset = api.dataset()
    document = api.admin.add_document(dataset, "a.md", "x")["id"]
    response = api.ds("DELETE", f"/datasets/{dataset}/documents/{document}")
    assert response.status_code == status and response.text.replace(" ", "").strip() == body
    again = api.ds("DELETE", f"/datasets/{dataset}/documents/{document}")
    assert (again.status_code, again.json()["message"]) == (404, "Document Not Exists.")


def test_delete_is_never_refused_for_indexing_only_for_archived_documents(api, dataset):
    for status in ("waiting", "parsing", "splitting", "indexing"):
        busy = api.admin.add_document(dataset, f"{status}.md", indexing_status=status)["id"]
        assert api.ds("DELETE", f"/datasets/{dataset}/documents/{busy}").status_code == 204
    archived = api.admin.add_document(dataset, "old.md", archived=True)["id"]
    refused = api.ds("DELETE", f"/datasets/{dataset}/documents/{archived}")
    assert (refused.status_code, refused.json()["code"]) == (403, "archived_document_immutable")


@pytest.mark.parametrize(
    ("version", "status", "code", "message"),
    [("1.7.2", 400, "invalid_param", "Dataset does not exist."), ("1.9.1", 404, "not_found", "Dataset not found.")],
)
def test_a_delete_in_an_unknown_dataset_answers_as_each_version_did(api_for, version, status, code, message):
    api = api_for(version)
    response = api.ds(
        "DELETE", "/datasets/00000000-0000-4000-8000-000000000000/documents/1e000000-0000-4000-8000-00000000000d"
    )
    assert (response.status_code, response.json()["code"], response.json()["message"]) == (status, code, message)


def test_status_actions_toggle_enabled_and_archived(api, dataset):
    document = api.admin.add_document(dataset, "a.md")["id"]
    path = f"/datasets/{dataset}/documents/status"
    assert api.ds("PATCH", f"{path}/disable", json={"document_ids": [document]}).json() == {"result": "success"}
    assert api.documents(dataset)["data"][0]["display_status"] == "disabled"
    api.ds("PATCH", f"{path}/enable", json={"document_ids": [document]})
    api.ds("PATCH", f"{path}/archive", json={"document_ids": [document]})
    assert api.documents(dataset)["data"][0]["display_status"] == "archived"
    assert api.ds("PATCH", f"{path}/explode", json={"document_ids": [document]}).json()["code"] == "invalid_action"
    busy = api.admin.add_document(dataset, "busy.md", indexing_status="parsing")["id"]
    assert api.ds("PATCH", f"{path}/disable", json={"document_ids": [busy]}).json()["code"] == "invalid_action"


def test_detail_shows_all_only_or_without_metadata(api, dataset):
    document = api.admin.add_document(dataset, "a.md", "x y", metadata={"etag": "e1"})["id"]
    base = f"/datasets/{dataset}/documents/{document}"
    full = api.ds("GET", base).json()
    assert full["doc_metadata"][0] == {
        "id": full["doc_metadata"][0]["id"],
        "name": "etag",
        "type": "string",
        "value": "e1",
    }
    assert full["dataset_process_rule"]["mode"] == "automatic" and full["completed_at"]
    only = api.ds("GET", base, params={"metadata": "only"}).json()
    assert set(only) == {"id", "doc_type", "doc_metadata"}
    without = api.ds("GET", base, params={"metadata": "without"}).json()
    assert "doc_metadata" not in without and "doc_type" not in without
    assert api.ds("GET", base, params={"metadata": "some"}).json()["code"] == "invalid_metadata"
    missing = api.ds("GET", f"/datasets/{dataset}/documents/00000000-0000-4000-8000-000000000000")
    assert (missing.status_code, missing.json()["message"]) == (404, "Document not found.")
