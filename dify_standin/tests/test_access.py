"""Who gets in and what an error looks like (shared/dify-api.md §1): Dify's 401 messages, dataset key versus app
keys, the `{code, message, status}` envelope (no `status` in 0.x), and the two answers that are not JSON at all:
Flask's HTML 404 for a path no route matches (a non-UUID id) and nginx's HTML 413 for an oversized body."""

from __future__ import annotations

import pytest
import requests

from dify_standin.tests.conftest import APP_KEY


def _get(api, headers: dict) -> requests.Response:
    return requests.get(api.base + "/datasets", headers=headers, timeout=5)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Authorization header must be provided and start with 'Bearer'"),
        ({"Authorization": "Bearer"}, "Authorization header must be provided and start with 'Bearer'"),
        ({"Authorization": "Basic abc"}, "Authorization scheme must be 'Bearer'"),
        ({"Authorization": "Bearer dataset-wrong"}, "Access token is invalid"),
    ],
)
def test_each_bad_authorization_header_gets_difys_401_message(api, headers, message):
    response = _get(api, headers)
    assert response.status_code == 401
    assert response.json() == {"code": "unauthorized", "message": message, "status": 401}


def test_a_key_of_the_other_kind_is_simply_invalid(api):
    api.admin.create_app("echo", APP_KEY)
    assert _get(api, {"Authorization": f"Bearer {APP_KEY}"}).json()["message"] == "Access token is invalid"
    wrong = api.app("GET", "/info", key=api.server.dataset_key)
    assert (wrong.status_code, wrong.json()["message"]) == (401, "Access token is invalid")
    assert api.app("GET", "/info").status_code == 200


@pytest.mark.parametrize(
    ("version", "header"), [("1.7.2", None), ("1.8.0", 'Bearer realm="api"'), ("1.13.2", 'Bearer realm="api"')]
)
def test_from_1_8_the_401_carries_www_authenticate(api_for, version, header):
    api = api_for(version)
    assert _get(api, {}).headers.get("WWW-Authenticate") == header


def test_0_x_error_bodies_have_no_status_field(api_for):
    assert _get(api_for("0.15"), {}).json() == {
        "code": "unauthorized",
        "message": "Authorization header must be provided and start with 'Bearer'",
    }


def test_an_unknown_dataset_is_a_json_404_and_a_disabled_api_a_403(api):
    missing = api.ds("GET", "/datasets/00000000-0000-4000-8000-000000000000/documents")
    assert missing.json() == {"code": "not_found", "message": "Dataset not found.", "status": 404}
    closed = api.dataset("closed", enable_api=False)
    refused = api.ds("GET", f"/datasets/{closed}/documents")
    assert (refused.status_code, refused.json()["code"], refused.json()["message"]) == (
        403,
        "forbidden",
        "Dataset api access is not enabled.",
    )


@pytest.mark.parametrize("path", ["/datasets/not-a-uuid/documents", "/datasets/x/document/create-by-file", "/nothing"])
def test_a_path_no_route_matches_gets_flasks_html_404_even_without_a_key(api, path):
    response = requests.get(api.base + path, timeout=5)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.lstrip().lower().startswith("<!doctype html>")


def test_a_method_a_route_does_not_serve_is_a_json_405(api, dataset):
    response = api.ds("PUT", f"/datasets/{dataset}")
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"


def test_a_body_over_the_nginx_limit_gets_an_html_413_before_auth(api, dataset):
    api.admin.set_body_limit(1000)
    response = requests.post(
        f"{api.base}/datasets/{dataset}/document/create-by-file", files={"file": ("a.md", b"x" * 5000)}, timeout=10
    )
    assert response.status_code == 413 and "nginx" in response.text
    assert response.headers["Content-Type"].startswith("text/html")
    assert api.upload(dataset, "a.md", b"x" * 100).status_code == 200


def test_a_reset_restores_the_limits_of_the_command_line(api, dataset):
    api.admin.set_body_limit(10)
    api.admin.set_upload_limit(10)
    api.admin.reset()
    settings = api.admin.state()["settings"]
    assert settings["body_limit"] == 100 * 1024 * 1024 and settings["upload_limit"] == 15 * 1024 * 1024
