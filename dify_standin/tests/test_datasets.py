"""Datasets (shared/dify-api.md §2): names of 1-40 characters unique in the workspace (409
`dataset_name_duplicate`), PATCH changes only the fields sent, DELETE is 204 unless an app uses the dataset
(409 `dataset_in_use`), and `doc_metadata` appears on a dataset from Dify 1.1."""

from __future__ import annotations


def test_create_get_patch_and_delete_a_dataset(api):
    created = api.ds("POST", "/datasets", json={"name": "kb", "description": "docs"}).json()
    assert (created["name"], created["permission"], created["indexing_technique"]) == ("kb", "only_me", None)
    dataset_id = created["id"]
    patched = api.ds("PATCH", f"/datasets/{dataset_id}", json={"description": "new"}).json()
    assert (patched["name"], patched["description"]) == ("kb", "new")
    assert api.ds("GET", f"/datasets/{dataset_id}").json()["description"] == "new"
    deleted = api.ds("DELETE", f"/datasets/{dataset_id}")
    assert (deleted.status_code, deleted.text) == (204, "")
    assert api.ds("GET", f"/datasets/{dataset_id}").status_code == 404


def test_names_are_1_to_40_characters_and_unique(api):
    assert api.ds("POST", "/datasets", json={"name": ""}).json()["code"] == "invalid_param"
    assert api.ds("POST", "/datasets", json={"name": "n" * 41}).status_code == 400
    api.ds("POST", "/datasets", json={"name": "kb"})
    duplicate = api.ds("POST", "/datasets", json={"name": "kb"})
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "dataset_name_duplicate")
    other = api.ds("POST", "/datasets", json={"name": "other"}).json()["id"]
    assert api.ds("PATCH", f"/datasets/{other}", json={"name": "kb"}).status_code == 409


def test_a_dataset_used_by_an_app_cannot_be_deleted(api):
    dataset_id = api.dataset("used", app_count=1)
    refused = api.ds("DELETE", f"/datasets/{dataset_id}")
    assert (refused.status_code, refused.json()["code"]) == (409, "dataset_in_use")


def test_the_list_pages_newest_first_with_difys_has_more(api):
    for n in range(3):
        api.admin.create_dataset(f"kb-{n}", created_at=1_700_000_000 + n)
    page = api.ds("GET", "/datasets", params={"limit": 3}).json()
    assert [d["name"] for d in page["data"]] == ["kb-2", "kb-1", "kb-0"]
    assert (page["total"], page["has_more"], page["limit"], page["page"]) == (3, True, 3, 1)
    assert api.ds("GET", "/datasets", params={"keyword": "KB-1"}).json()["total"] == 1


def test_doc_metadata_appears_on_datasets_from_1_1(api_for):
    old, new = api_for("1.0"), api_for("1.1")
    assert "doc_metadata" not in old.ds("GET", f"/datasets/{old.dataset()}").json()
    assert new.ds("GET", f"/datasets/{new.dataset()}").json()["doc_metadata"] == []
