"""The knowledge API behaves as Dify's does, quirks included (shared/dify-api.md §2-§5)."""

from __future__ import annotations

import time

import pytest

from dify_standin.processes import StandinProcess
from dify_standin.tests.conftest import Api, upload


def test_auth_messages_follow_dify(api):
    import requests

    def get(headers):
        return requests.get(api.base + "/datasets", headers=headers, timeout=5).json()

    assert get({})["message"] == "Authorization header must be provided and start with 'Bearer'"
    assert get({"Authorization": "Basic abc"})["message"] == "Authorization scheme must be 'Bearer'"
    assert get({"Authorization": "Bearer wrong"}) == {
        "code": "unauthorized",
        "message": "Access token is invalid",
        "status": 401,
    }


def test_pages_default_to_20_cap_at_100_and_has_more_is_wrong_at_exact_multiples(api, dataset):
    for i in range(200):
        api.admin.add_document(dataset, f"d{i:03d}.md", "x")
    first = api.ds("GET", f"/datasets/{dataset}/documents").json()
    assert (len(first["data"]), first["limit"], first["total"]) == (20, 20, 200)
    capped = api.ds("GET", f"/datasets/{dataset}/documents", params={"limit": 150}).json()
    assert len(capped["data"]) == 100 and capped["has_more"] is False and capped["limit"] == 150
    last = api.ds("GET", f"/datasets/{dataset}/documents", params={"limit": 100, "page": 2}).json()
    assert len(last["data"]) == 100 and last["has_more"] is True  # the quirk: nothing is left
    after = api.ds("GET", f"/datasets/{dataset}/documents", params={"limit": 100, "page": 3}).json()
    assert after["data"] == [] and after["has_more"] is False
    assert first["data"][0]["name"] == "d199.md"  # newest first


def test_create_by_file_upserts_by_name_unless_duplicate_is_false(api, dataset):
    first = upload(api, dataset, "a.md").json()
    second = upload(api, dataset, "a.md", b"new").json()
    third = upload(api, dataset, "a.md", data='{"duplicate": false}').json()
    assert second["document"]["id"] == first["document"]["id"] and second["batch"] != first["batch"]
    assert third["document"]["id"] != first["document"]["id"]


def test_the_first_document_needs_a_process_rule_and_technique(api):
    bare = api.admin.create_dataset("bare")["id"]
    missing = upload(api, bare, "a.md", data='{"indexing_technique": "economy"}')
    assert missing.status_code == 400 and missing.json()["message"] == "process_rule is required."
    ok = upload(api, bare, "a.md", data='{"indexing_technique": "economy", "process_rule": {"mode": "automatic"}}')
    assert ok.status_code == 200
    assert upload(api, bare, "b.md").status_code == 200  # later documents use the dataset's rule


@pytest.mark.parametrize(
    ("name", "size", "status", "message"),
    [
        ("a/b.md", 1, 400, "Filename contains invalid characters."),
        ("tool.exe", 1, 400, "File type not allowed."),
        ("big.md", 16 * 1024 * 1024, 400, "File size exceeded"),
    ],
)
def test_create_rejects_names_types_and_sizes_with_400(api, dataset, name, size, status, message):
    response = upload(api, dataset, name, b"x" * size)
    assert response.status_code == status and response.json()["message"].startswith(message)


def test_update_rejects_type_and_size_with_415_and_413(api, dataset):
    doc = upload(api, dataset, "a.md").json()["document"]["id"]
    path = f"/datasets/{dataset}/documents/{doc}/update-by-file"
    assert api.ds("POST", path, files={"file": ("a.exe", b"x")}).status_code == 415
    api.admin.set_upload_limit(3)
    assert api.ds("POST", path, files={"file": ("a.md", b"xxxx")}).json()["code"] == "file_too_large"


def test_long_names_are_cut_to_200_keeping_the_extension(api, dataset):
    doc = upload(api, dataset, "n" * 300 + ".md").json()["document"]
    assert len(doc["name"]) == 200 and doc["name"].endswith(".md")


def test_indexing_moves_through_the_states_and_updates_wait_for_available(standin_process):
    api = Api(standin_process)
    api.admin.reset()
    api.admin.set_indexing(seconds=1.0)
    dataset = api.admin.create_dataset("kb", indexing_technique="economy", process_rule={"mode": "automatic"})["id"]
    body = upload(api, dataset, "a.md").json()
    doc, batch = body["document"]["id"], body["batch"]
    update = api.ds("POST", f"/datasets/{dataset}/documents/{doc}/update-by-text", json={"name": "a.md", "text": "x"})
    assert update.json()["message"] == "Document is not available"
    seen = set()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        (status,) = api.ds("GET", f"/datasets/{dataset}/documents/{batch}/indexing-status").json()["data"]
        seen.add(status["indexing_status"])
        if status["indexing_status"] == "completed":
            break
        time.sleep(0.05)
    assert "completed" in seen and len(seen) >= 3
    assert api.ds("DELETE", f"/datasets/{dataset}/documents/{doc}").status_code == 200


def test_indexing_can_end_in_error(api, dataset):
    api.admin.set_indexing(error_names="^bad")
    batch = upload(api, dataset, "bad.md").json()["batch"]
    (status,) = api.ds("GET", f"/datasets/{dataset}/documents/{batch}/indexing-status").json()["data"]
    assert status["indexing_status"] == "error" and status["error"]
    listed = api.ds("GET", f"/datasets/{dataset}/documents").json()["data"][0]
    assert listed["display_status"] == "error"


def test_metadata_writes_replace_all_values_unless_partial_update(api, dataset):
    doc = upload(api, dataset, "a.md").json()["document"]["id"]
    a = api.ds("POST", f"/datasets/{dataset}/metadata", json={"type": "string", "name": "a"}).json()
    b = api.ds("POST", f"/datasets/{dataset}/metadata", json={"type": "string", "name": "b"}).json()
    assert (
        api.ds("POST", f"/datasets/{dataset}/metadata", json={"type": "string", "name": "a"}).json()["message"]
        == "Metadata name already exists."
    )

    def write(items, partial=None):
        op = {"document_id": doc, "metadata_list": items}
        if partial is not None:
            op["partial_update"] = partial
        return api.ds("POST", f"/datasets/{dataset}/documents/metadata", json={"operation_data": [op]})

    write([{"id": a["id"], "name": "a", "value": "1"}, {"id": b["id"], "name": "b", "value": "2"}])
    write([{"id": a["id"], "name": "a", "value": "3"}])
    values = {
        m["name"]: m["value"] for m in api.ds("GET", f"/datasets/{dataset}/documents").json()["data"][0]["doc_metadata"]
    }
    assert values == {"a": "3"}
    write([{"id": b["id"], "name": "b", "value": "4"}], partial=True)
    values = {
        m["name"]: m["value"] for m in api.ds("GET", f"/datasets/{dataset}/documents").json()["data"][0]["doc_metadata"]
    }
    assert values == {"a": "3", "b": "4"}


@pytest.mark.parametrize(
    ("version", "status", "body"), [("0.15", 200, '{"result":"success"}'), ("1.13", 200, "204"), ("1.14", 204, "")]
)
def test_delete_answers_as_each_version_did(version, status, body):
    with StandinProcess(dify_version=version) as server:
        api = Api(server)
        dataset = api.admin.create_dataset("kb", indexing_technique="economy", process_rule={"mode": "automatic"})["id"]
        doc = api.admin.add_document(dataset, "a.md", "x")["id"]
        response = api.ds("DELETE", f"/datasets/{dataset}/documents/{doc}")
        assert response.status_code == status
        assert response.text.replace(" ", "").strip() == body
        assert api.ds("DELETE", f"/datasets/{dataset}/documents/{doc}").json()["message"] == "Document Not Exists."


def test_a_non_uuid_id_gets_flasks_html_404(api):
    response = api.ds("GET", "/datasets/not-a-uuid/documents")
    assert response.status_code == 404 and response.text.lstrip().startswith("<!doctype html>")


def test_faults_fire_the_configured_number_of_times(api, dataset):
    api.admin.set_faults([{"path": "/documents$", "status": 429, "retry_after": 3, "times": 2}])
    codes = [api.ds("GET", f"/datasets/{dataset}/documents") for _ in range(3)]
    assert [c.status_code for c in codes] == [429, 429, 200]
    assert codes[0].headers["Retry-After"] == "3" and codes[0].json()["code"] == "too_many_requests"
    log = api.admin.request_log()
    assert [r["status"] for r in log if r["path"].endswith("/documents")] == [429, 429, 200]
