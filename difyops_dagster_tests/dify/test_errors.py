"""Every failure becomes one `DifyError` with Dify's status, code and message and the endpoint — from JSON
envelopes of every era, HTML pages from nginx/Flask, and empty bodies alike.
"""

from __future__ import annotations

import pytest
import requests

from difyops_dagster.dify.errors import DifyError, error_from_response


def _response(status: int, body: str, content_type: str = "application/json") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers["Content-Type"] = content_type
    return response


@pytest.mark.parametrize(
    ("status", "body", "code", "message"),
    [
        (
            400,
            '{"code":"invalid_param","message":"process_rule is required.","status":400}',
            "invalid_param",
            "process_rule is required.",
        ),
        (
            400,
            '{"code":"invalid_param","message":"Invalid","params":"limit"}',
            "invalid_param",
            "Invalid (parameter limit)",
        ),
        (404, "<!doctype html><title>404 Not Found</title><h1>Not Found</h1>", "not_found", "404 Not Found"),
        (
            413,
            "<html><head><title>413 Request Entity Too Large</title></head></html>",
            "request_entity_too_large",
            "413 Request Entity Too Large",
        ),
        (502, "", "http_502", "empty body"),
    ],
)
def test_error_bodies_of_every_shape_are_understood(status, body, code, message):
    error = error_from_response("GET /datasets", _response(status, body))
    assert (error.status, error.code, error.message) == (status, code, message)


def test_retryable_means_no_answer_rate_limited_or_server_side():
    assert DifyError("x", None, "timeout", "").retryable
    assert DifyError("x", 429, "too_many_requests", "").retryable
    assert DifyError("x", 503, "e", "").retryable
    assert not DifyError("x", 403, "forbidden", "").retryable


def test_errors_survive_pickling_for_dagster_event_logs():
    import pickle

    error = pickle.loads(pickle.dumps(DifyError("GET /x", 404, "not_found", "gone")))
    assert (error.endpoint, error.status, error.code, error.message) == ("GET /x", 404, "not_found", "gone")


def test_dify_errors_from_the_stand_in_carry_status_code_and_endpoint(standin, datasets, dataset_id):
    with pytest.raises(DifyError) as info:
        datasets.get_document(dataset_id, "00000000-0000-4000-8000-000000000000")
    assert (info.value.status, info.value.code, info.value.message) == (404, "not_found", "Document Not Exists.")
    assert info.value.endpoint.startswith(f"GET /datasets/{dataset_id}/documents/")


def test_an_unknown_dataset_key_is_a_401(standin, dataset_id):
    from difyops_dagster_tests.dify.conftest import FAST, dataset_client

    standin_wrong = type("S", (), {"api_url": standin.api_url, "dataset_key": "dataset-wrong"})()
    with pytest.raises(DifyError) as info:
        dataset_client(standin_wrong, FAST).get_dataset(dataset_id)
    assert (info.value.status, info.value.code, info.value.message) == (401, "unauthorized", "Access token is invalid")


def test_wrong_type_and_oversized_uploads_are_reported(standin, datasets, dataset_id):
    with pytest.raises(DifyError, match="File type not allowed") as info:
        datasets.create_document_by_file(dataset_id, "tool.exe", b"MZ")
    assert info.value.status == 400
    standin.admin.set_upload_limit(10)
    with pytest.raises(DifyError, match="File size exceeded"):
        datasets.create_document_by_file(dataset_id, "big.md", b"x" * 11)
