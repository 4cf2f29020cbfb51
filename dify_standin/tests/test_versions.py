"""Versions at patch level (versions.py): `--dify-version` takes `major.minor.patch`, `major.minor` (= `.0`) or
`newest`, refuses anything else by name, and the server says which version it imitates where Dify does: the
service API's index `GET /v1/` (no key needed), the API server's `GET /health` (outside `/v1`) and the `X-Version`
header of every answer. The metadata write's answer is the first patch-level difference a sync meets."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from dify_standin.versions import NEWEST, Behaviour, parse_version


@pytest.mark.parametrize(
    ("text", "version"),
    [("1.9.1", (1, 9, 1)), ("1.9", (1, 9, 0)), ("1", (1, 0, 0)), ("0.15.3", (0, 15, 3)), ("newest", NEWEST)],
)
def test_versions_parse_to_three_parts(text, version):
    assert parse_version(text) == version


@pytest.mark.parametrize("text", ["1.9.x", "", "1.9.1.4", "v1.9", "latest"])
def test_anything_else_is_refused_with_the_text_named(text):
    with pytest.raises(ValueError, match=r"is not major\.minor\.patch"):
        parse_version(text)


def test_newest_is_above_every_recorded_version():
    assert NEWEST > (1, 13, 2) and Behaviour(NEWEST).has_patch_update


def test_the_command_line_refuses_a_bad_version_naming_the_option():
    done = subprocess.run(
        [sys.executable, "-m", "dify_standin", "--dify-version", "1.x"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2 and "--dify-version" in done.stderr and "'1.x'" in done.stderr


@pytest.mark.parametrize("version", ["1.9.1", "1.13.2"])
def test_the_index_health_and_every_answer_tell_the_version(api_for, version):
    api = api_for(version)
    index = requests.get(api.base + "/", timeout=5)
    assert index.json() == {"welcome": "Dify OpenAPI", "api_version": "v1", "server_version": version}
    health = requests.get(api.server.url + "/health", timeout=5).json()
    assert (health["status"], health["version"], isinstance(health["pid"], int)) == ("ok", version, True)
    refused = requests.get(api.base + "/datasets", timeout=5)
    assert refused.status_code == 401 and refused.headers["X-Version"] == version
    assert refused.headers["X-Env"] == "PRODUCTION"


def test_a_minor_version_means_its_first_patch(api_for):
    assert requests.get(api_for("1.9").base + "/", timeout=5).json()["server_version"] == "1.9.0"


def _write(api, dataset: str, document: str, field: dict, value: str = "v") -> requests.Response:
    item = {"id": field["id"], "name": field["name"], "value": value}
    body = {"operation_data": [{"document_id": document, "metadata_list": [item]}]}
    return api.ds("POST", f"/datasets/{dataset}/documents/metadata", json=body)


@pytest.mark.parametrize(("version", "text"), [("1.1.0", "200"), ("1.8.1", "200"), ("1.9.0", '{"result":"success"}')])
def test_the_metadata_write_answers_a_bare_200_on_1_1_to_1_8(api_for, version, text):
    api = api_for(version)
    dataset = api.dataset()
    document = api.upload(dataset, "a.md").json()["document"]["id"]
    field = api.ds("POST", f"/datasets/{dataset}/metadata", json={"type": "string", "name": "etag"}).json()
    written = _write(api, dataset, document, field)
    assert (written.status_code, written.headers["Content-Type"]) == (200, "application/json")
    assert written.text.replace(" ", "").strip() == text
    assert api.admin.documents(dataset)[0]["metadata"] == {"etag": "v"}


@pytest.mark.parametrize(("version", "status"), [("1.11.2", 200), ("1.13.0", 400)])
def test_a_write_for_an_unknown_document_is_skipped_before_1_13_and_refused_from_it(api_for, version, status):
    api = api_for(version)
    dataset = api.dataset()
    field = api.ds("POST", f"/datasets/{dataset}/metadata", json={"type": "string", "name": "etag"}).json()
    assert _write(api, dataset, "00000000-0000-4000-8000-00000000000d", field).status_code == status


@pytest.mark.parametrize(("version", "status"), [("1.11.0", 500), ("1.11.1", 200)])
def test_a_first_text_document_without_a_process_rule_crashes_up_to_1_11_0(api_for, version, status):
    api = api_for(version)
    dataset = api.admin.create_dataset("bare", indexing_technique="economy")["id"]
    body = {"name": "t.txt", "text": "some words", "indexing_technique": "economy"}
    created = api.ds("POST", f"/datasets/{dataset}/document/create-by-text", json=body)
    assert created.status_code == status
    if status == 500:
        assert created.json() == {"message": "Internal Server Error", "code": "unknown", "status": 500}


@pytest.mark.parametrize(("version", "status"), [("1.5.0", 405), ("1.5.1", 200)])
def test_the_document_detail_route_arrives_in_1_5_1(api_for, version, status):
    api = api_for(version)
    dataset = api.dataset()
    document = api.admin.add_document(dataset, "a.md", "x")["id"]
    assert api.ds("GET", f"/datasets/{dataset}/documents/{document}").status_code == status
