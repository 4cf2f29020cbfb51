"""Every failure becomes one `DifyError` with Dify's status, code and message and the endpoint — from JSON
envelopes of every era, HTML pages from nginx/Flask, empty bodies, and calls that got no answer at all.
"""

from __future__ import annotations

import pickle

import pytest
import requests

from dify_standin.processes import free_port
from difyops_dagster.dify.errors import NO_MESSAGE, DifyError, error_from_response
from difyops_dagster_tests.dify.conftest import FAST, dataset_client


def _response(status: int, body: str, content_type: str = "application/json", **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers["Content-Type"] = content_type
    response.headers.update(headers)
    return response


@pytest.mark.parametrize(
    ("status", "body", "code", "message"),
    [
        (  # 1.x envelope
            400,
            '{"code":"invalid_param","message":"process_rule is required.","status":400}',
            "invalid_param",
            "process_rule is required.",
        ),
        (  # reqparse era: `params` names the field
            400,
            '{"code":"invalid_param","message":"Invalid","params":"limit"}',
            "invalid_param",
            "Invalid (parameter limit)",
        ),
        (
            403,
            '{"code":"forbidden","message":"Dataset api access is not enabled."}',
            "forbidden",
            "Dataset api access is not enabled.",
        ),  # 0.x: no status
        (400, '{"code":"invalid_param","message":"","status":400}', "invalid_param", NO_MESSAGE),  # empty ValueError
        (
            400,
            '{"code":"invalid_param","message":"line one\\nline two","status":400}',
            "invalid_param",
            "line one\nline two",
        ),
        (404, "<!doctype html><title>404 Not Found</title><h1>Not Found</h1>", "not_found", "404 Not Found"),
        (
            413,
            "<html><head><title>413 Request Entity Too Large</title></head></html>",
            "request_entity_too_large",
            "413 Request Entity Too Large",
        ),
        (502, "", "http_502", "Bad Gateway"),
        (500, '{"data": [', "http_500", '{"data": ['),  # truncated JSON
        (500, '["not", "an", "envelope"]', "http_500", '["not", "an", "envelope"]'),
    ],
)
def test_error_bodies_of_every_shape_are_understood(status, body, code, message):
    response = _response(status, body)
    response.reason = requests.status_codes._codes[status][0].replace("_", " ").title()
    error = error_from_response("GET /datasets", response)
    assert (error.status, error.code, error.message, error.endpoint) == (status, code, message, "GET /datasets")


def test_an_empty_body_without_a_reason_still_says_something():
    assert error_from_response("GET /x", _response(502, "")).message == "empty body"


def test_a_redirect_names_where_it_points_without_the_query_string():
    error = error_from_response("GET /datasets", _response(301, "", Location="https://dify.example.com/v1?next=x"))
    assert error.status == 301 and "https://dify.example.com/v1;" in error.message and "next" not in error.message


def test_retryable_means_no_answer_rate_limited_or_server_side():
    assert DifyError("x", None, "timeout", "").retryable
    assert DifyError("x", None, "connection_error", "").retryable
    assert DifyError("x", 429, "too_many_requests", "").retryable
    assert DifyError("x", 503, "e", "").retryable
    assert not DifyError("x", 400, "invalid_param", "").retryable
    assert not DifyError("x", None, "request_error", "InvalidURL").retryable
    assert not DifyError("x", 403, "forbidden", "Dataset api access is not enabled.").retryable


def test_clouds_knowledge_rate_limit_is_a_retryable_403():
    message = "Sorry, you have reached the knowledge base request rate limit of your subscription."
    assert DifyError("POST /x", 403, "forbidden", message).retryable


def test_errors_survive_pickling_for_dagster_event_logs():
    error = pickle.loads(pickle.dumps(DifyError("GET /x", 404, "not_found", "gone")))
    assert (error.endpoint, error.status, error.code, error.message) == ("GET /x", 404, "not_found", "gone")
    assert str(error) == "Dify GET /x failed (HTTP 404, not_found): gone"


def test_a_refused_connection_is_a_connection_error_without_status():
    nobody = type("S", (), {"api_url": f"http://127.0.0.1:{free_port()}/v1", "dataset_key": "dataset-x"})()
    with pytest.raises(DifyError) as info:
        dataset_client(nobody, FAST).get_dataset("ds-1")
    error = info.value
    assert (error.status, error.code, error.endpoint, error.retryable) == (
        None,
        "connection_error",
        "GET /datasets/ds-1",
        True,
    )
    assert "127.0.0.1" not in str(error)  # described by kind, not by urllib3's message


# --- against the stand-in: the statuses Dify answers, as the client reports them ---


def test_a_dify_400_carries_the_validation_message(standin, datasets):
    with pytest.raises(DifyError) as info:
        datasets.create_dataset("x" * 41)
    assert (info.value.status, info.value.code, info.value.endpoint) == (400, "invalid_param", "POST /datasets")


def test_an_unknown_dataset_key_is_a_401(standin, dataset_id):
    wrong = type("S", (), {"api_url": standin.api_url, "dataset_key": "dataset-wrong"})()
    with pytest.raises(DifyError) as info:
        dataset_client(wrong, FAST).get_dataset(dataset_id)
    assert (info.value.status, info.value.code, info.value.message) == (401, "unauthorized", "Access token is invalid")
    assert not info.value.retryable


def test_deleting_an_archived_document_is_a_403(standin, datasets, dataset_id):
    doc = datasets.create_document_by_file(dataset_id, "a.md", b"x").document
    requests.patch(
        f"{standin.api_url}/datasets/{dataset_id}/documents/status/archive",
        json={"document_ids": [doc.id]},
        headers={"Authorization": f"Bearer {standin.dataset_key}"},
        timeout=5,
    ).raise_for_status()
    with pytest.raises(DifyError) as info:
        datasets.delete_document(dataset_id, doc.id)
    assert (info.value.status, info.value.code) == (403, "archived_document_immutable")
    assert info.value.endpoint == f"DELETE /datasets/{dataset_id}/documents/{doc.id}" and not info.value.retryable


def test_an_unknown_document_is_a_404_with_difys_message(standin, datasets, dataset_id):
    with pytest.raises(DifyError) as info:
        datasets.get_document(dataset_id, "00000000-0000-4000-8000-000000000000")
    assert (info.value.status, info.value.code) == (404, "not_found")
    assert info.value.message in ("Document not found.", "Document Not Exists.")  # Dify's words vary by route
    assert info.value.endpoint == f"GET /datasets/{dataset_id}/documents/00000000-0000-4000-8000-000000000000"


def test_a_non_uuid_id_gets_flasks_html_404_and_still_reads_as_not_found(standin, datasets, dataset_id):
    with pytest.raises(DifyError) as info:
        datasets.get_document(dataset_id, "not-a-uuid")
    assert (info.value.status, info.value.code) == (404, "not_found")
    assert "<" not in info.value.message


def test_updates_report_oversized_files_as_413_and_wrong_types_as_415(standin, datasets, dataset_id):
    doc = datasets.create_document_by_file(dataset_id, "a.md", b"x").document
    with pytest.raises(DifyError) as wrong_type:
        datasets.update_document_by_file(dataset_id, doc.id, "tool.exe", b"MZ")
    standin.admin.set_upload_limit(10)
    with pytest.raises(DifyError) as too_big:
        datasets.update_document_by_file(dataset_id, doc.id, "a.md", b"x" * 11)
    assert (wrong_type.value.status, wrong_type.value.code) == (415, "unsupported_file_type")
    assert (too_big.value.status, too_big.value.code) == (413, "file_too_large")


def test_creates_report_the_same_rejections_as_400_invalid_param(standin, datasets, dataset_id):
    with pytest.raises(DifyError, match="HTTP 400, invalid_param") as wrong_type:  # Dify's message is empty
        datasets.create_document_by_file(dataset_id, "tool.exe", b"MZ")
    standin.admin.set_upload_limit(10)
    with pytest.raises(DifyError, match="File size exceeded") as too_big:
        datasets.create_document_by_file(dataset_id, "big.md", b"x" * 11)
    assert wrong_type.value.status == too_big.value.status == 400
