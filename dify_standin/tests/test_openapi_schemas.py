"""Successful responses match the schemas of Dify's own OpenAPI description (newest API, so Dify 1.16 mode).

The spec's schemas are loose (few `required` fields) but typed: a wrong type or shape of any field the spec
declares fails here. Nullability is not checked: the recordings show real Dify (1.13.2) answering null for many
fields the spec marks not nullable (`embedding_model` of an economy dataset, `icon_info.*`, `external_*`) and a
float where it says integer (the upload file's `created_at`); the recordings are the ground truth, and
test_recorded_conformance.py checks nulls and int-versus-float against them. `data/openapi_service.json` is
dify-docs@9d8344e, copied so the test needs nothing outside.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openapi_schema_validator import OAS30Validator

from dify_standin.processes import StandinProcess
from dify_standin.tests.conftest import APP_KEY, AUTOMATIC, Api

SPEC = json.loads((Path(__file__).parent / "data" / "openapi_service.json").read_text())


def _inline(node, depth=0):
    """Resolve `$ref`s in place. `oneOf` becomes `anyOf`: the spec's alternatives (e.g. the input-form kinds) list
    no required keys, so every object matches several of them and a strict `oneOf` would reject valid bodies."""
    if depth > 12:
        return {}
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return _inline(SPEC["components"]["schemas"][name], depth + 1)
        inlined = {("anyOf" if k == "oneOf" else k): _inline(v, depth) for k, v in node.items()}
        if inlined.get("type") == "integer":
            inlined["type"] = "number"
        return {**inlined, "nullable": True} if "type" in inlined else inlined
    if isinstance(node, list):
        return [_inline(v, depth) for v in node]
    return node


def schema_for(method: str, path: str, status: str = "200") -> dict:
    response = SPEC["paths"][path][method.lower()]["responses"][status]
    if "$ref" in response:
        response = SPEC["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return _inline(response["content"]["application/json"]["schema"])


@pytest.fixture(scope="module")
def newest():
    with StandinProcess(dify_version="1.16") as server:
        yield Api(server)


def _spare_dataset(api: Api) -> str:
    """Made only after the list call: the spec marks `indexing_technique`, `doc_form` and `data_source_type` not
    nullable, though Dify (and the stand-in) answer null for a dataset that has no document yet."""
    return api.ds("POST", "/datasets", json={"name": "spare"}).json()["id"]


def calls(api: Api):
    """One successful call per documented operation: (method, spec path, response) or (…, None, body, status)."""
    dataset = api.ds("POST", "/datasets", json={"name": "conformance"}).json()["id"]
    created = api.upload(dataset, "a.md", data=json.dumps(AUTOMATIC)).json()
    doc, batch = created["document"]["id"], created["batch"]
    text = api.ds(
        "POST",
        f"/datasets/{dataset}/document/create-by-text",
        json={"name": "t", "text": "x", "indexing_technique": "economy"},
    )
    field = api.ds("POST", f"/datasets/{dataset}/metadata", json={"type": "string", "name": "k"}).json()
    item = {"id": field["id"], "name": "k", "value": "v"}
    written = api.ds(
        "POST",
        f"/datasets/{dataset}/documents/metadata",
        json={"operation_data": [{"document_id": doc, "metadata_list": [item]}]},
    )
    api.admin.create_app("echo", APP_KEY, workflow={"outputs": {"answer": "{{query}}"}})
    run = api.app("POST", "/workflows/run", json={"inputs": {"query": "x"}, "user": "u"}).json()
    base = f"/datasets/{dataset}/documents/{doc}"
    return [
        ("GET", "/datasets", api.ds("GET", "/datasets")),
        ("GET", "/datasets/{dataset_id}", api.ds("GET", f"/datasets/{dataset}")),
        ("PATCH", "/datasets/{dataset_id}", api.ds("PATCH", f"/datasets/{dataset}", json={"description": "d"})),
        ("POST", "/datasets/{dataset_id}/document/create-by-file", None, created),
        ("POST", "/datasets/{dataset_id}/document/create-by-text", text),
        ("GET", "/datasets/{dataset_id}/documents", api.ds("GET", f"/datasets/{dataset}/documents")),
        ("GET", "/datasets/{dataset_id}/documents/{document_id}", api.ds("GET", base)),
        (
            "GET",
            "/datasets/{dataset_id}/documents/{batch}/indexing-status",
            api.ds("GET", f"/datasets/{dataset}/documents/{batch}/indexing-status"),
        ),
        ("POST", "/datasets/{dataset_id}/metadata", None, field, "201"),
        ("GET", "/datasets/{dataset_id}/metadata", api.ds("GET", f"/datasets/{dataset}/metadata")),
        ("POST", "/datasets/{dataset_id}/documents/metadata", written),
        (
            "PATCH",
            "/datasets/{dataset_id}/metadata/{metadata_id}",
            api.ds("PATCH", f"/datasets/{dataset}/metadata/{field['id']}", json={"name": "k2"}),
        ),
        ("GET", "/datasets/{dataset_id}/metadata/built-in", api.ds("GET", f"/datasets/{dataset}/metadata/built-in")),
        (
            "POST",
            "/datasets/{dataset_id}/metadata/built-in/{action}",
            api.ds("POST", f"/datasets/{dataset}/metadata/built-in/enable"),
        ),
        (
            "PATCH",
            "/datasets/{dataset_id}/documents/status/{action}",
            api.ds("PATCH", f"/datasets/{dataset}/documents/status/disable", json={"document_ids": [doc]}),
        ),
        (
            "PATCH",
            "/datasets/{dataset_id}/documents/status/{action}",
            api.ds("PATCH", f"/datasets/{dataset}/documents/status/enable", json={"document_ids": [doc]}),
        ),
        (
            "POST",
            "/datasets/{dataset_id}/documents/{document_id}/update-by-text",
            api.ds("POST", base + "/update-by-text", json={"name": "a.md", "text": "y"}),
        ),
        (
            "POST",
            "/datasets/{dataset_id}/documents/{document_id}/update-by-file",
            api.ds("POST", base + "/update-by-file", files={"file": ("a.md", b"z")}),
        ),
        (
            "PATCH",
            "/datasets/{dataset_id}/documents/{document_id}",
            api.ds("PATCH", base, files={"file": ("a.md", b"w")}),
        ),
        ("DELETE", "/datasets/{dataset_id}/documents/{document_id}", api.ds("DELETE", base), "204"),
        (
            "DELETE",
            "/datasets/{dataset_id}/metadata/{metadata_id}",
            api.ds("DELETE", f"/datasets/{dataset}/metadata/{field['id']}"),
            "204",
        ),
        ("DELETE", "/datasets/{dataset_id}", api.ds("DELETE", f"/datasets/{_spare_dataset(api)}"), "204"),
        ("GET", "/info", api.app("GET", "/info")),
        ("GET", "/parameters", api.app("GET", "/parameters")),
        ("POST", "/workflows/run", None, run),
        ("GET", "/workflows/run/{workflow_run_id}", api.app("GET", f"/workflows/run/{run['workflow_run_id']}")),
        ("GET", "/workflows/logs", api.app("GET", "/workflows/logs")),
    ]


def test_success_responses_match_difys_openapi_schemas(newest):
    problems = []
    for method, path, response, *rest in calls(newest):
        if response is None:
            body, status = rest[0], rest[1] if len(rest) > 1 else "200"
        else:
            status = rest[0] if rest else "200"
            assert str(response.status_code) == status, (method, path, response.text[:200])
            if status == "204":
                assert response.content == b"", (method, path)
                continue
            body = response.json()
        errors = sorted(OAS30Validator(schema_for(method, path, status)).iter_errors(body), key=str)
        problems += [f"{method} {path}: {'/'.join(map(str, e.path))}: {e.message}" for e in errors]
    assert problems == [], "\n".join(problems)
