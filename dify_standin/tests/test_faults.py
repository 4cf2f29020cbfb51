"""Injected trouble and the request log: a rule answers Dify's error JSON (429 with or without Retry-After, 5xx,
4xx), a malformed body, a dropped connection, or latency; it fires at most `times` times and with a seeded
`rate`; a pause holds every request; every API request is logged with its route template and final status."""

from __future__ import annotations

import time

import pytest
import requests


def test_429_with_retry_after_fires_the_configured_number_of_times(api, dataset):
    api.admin.set_faults([{"path": "/documents$", "status": 429, "retry_after": 3, "times": 2}])
    responses = [api.ds("GET", f"/datasets/{dataset}/documents") for _ in range(3)]
    assert [r.status_code for r in responses] == [429, 429, 200]
    assert responses[0].headers["Retry-After"] == "3"
    assert responses[0].json() == {"code": "too_many_requests", "message": "Injected fault 429", "status": 429}
    assert [r["status"] for r in api.admin.request_log()] == [429, 429, 200]
    assert api.admin.faults()[0]["fired"] == 2


@pytest.mark.parametrize(
    ("status", "code"), [(500, "internal_server_error"), (503, "service_unavailable"), (403, "forbidden")]
)
def test_a_status_rule_answers_difys_error_envelope(api, dataset, status, code):
    api.admin.set_faults([{"path": "/documents$", "method": "GET", "status": status, "message": "boom"}])
    response = api.ds("GET", f"/datasets/{dataset}/documents")
    assert response.json() == {"code": code, "message": "boom", "status": status}
    assert "Retry-After" not in response.headers
    assert api.ds(
        "POST",
        f"/datasets/{dataset}/document/create-by-text",
        json={"name": "a", "text": "b", "indexing_technique": "economy"},
    ).ok


def test_faults_apply_before_auth_like_a_proxy(api):
    api.admin.set_faults([{"path": "^/v1/datasets$", "status": 502}])
    assert requests.get(api.base + "/datasets", timeout=5).status_code == 502


def test_a_dropped_connection_gives_no_response_and_is_logged_as_status_0(api, dataset):
    api.admin.set_faults([{"path": "create-by-file$", "drop": True, "times": 1}])
    with pytest.raises(requests.ConnectionError):
        api.upload(dataset, "a.md")
    assert api.upload(dataset, "a.md").status_code == 200
    log = api.admin.request_log()
    assert [(r["status"], r["fault"]) for r in log] == [(0, "drop"), (200, None)]
    assert api.documents(dataset)["total"] == 1  # the dropped call never reached the view


def test_a_malformed_body_is_not_json(api, dataset):
    api.admin.set_faults([{"path": "/documents$", "malformed": True}])
    response = api.ds("GET", f"/datasets/{dataset}/documents")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        response.json()


def test_a_latency_rule_delays_and_then_serves_normally(api, dataset):
    api.admin.set_faults([{"path": "/documents$", "latency_ms": 300, "times": 1}])
    started = time.monotonic()
    assert api.ds("GET", f"/datasets/{dataset}/documents").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    api.ds("GET", f"/datasets/{dataset}/documents")
    assert time.monotonic() - started < 0.3


def test_a_rate_rule_fires_a_repeatable_share_of_requests(api, dataset):
    def run() -> list[int]:
        api.admin.set_faults([{"path": "/documents$", "status": 500, "rate": 0.3}], seed=7)
        return [api.ds("GET", f"/datasets/{dataset}/documents").status_code for _ in range(40)]

    first, second = run(), run()
    assert first == second and 4 <= first.count(500) <= 20


def test_global_latency_and_a_pause_hold_requests(api, dataset):
    api.admin.set_latency(200)
    started = time.monotonic()
    api.ds("GET", f"/datasets/{dataset}")
    assert time.monotonic() - started >= 0.2
    api.admin.set_latency(0)
    api.admin.pause(0.5)
    started = time.monotonic()
    api.ds("GET", f"/datasets/{dataset}")
    assert time.monotonic() - started >= 0.4


def test_the_request_log_names_the_route_template_and_is_cleared_on_demand(api, dataset):
    api.upload(dataset, "a.md")
    api.ds("GET", "/datasets/not-a-uuid")
    entries = api.admin.request_log()
    assert [(e["method"], e["route"], e["status"]) for e in entries] == [
        ("POST", "/v1/datasets/<uuid:dataset_id>/document/create-by-file", 200),
        ("GET", None, 404),
    ]
    assert entries[0]["path"] == f"/v1/datasets/{dataset}/document/create-by-file" and entries[0]["time"] > 0
    api.admin.clear_request_log()
    assert api.admin.request_log() == []


def test_a_bad_rule_is_refused_by_the_admin_api(api):
    with pytest.raises(requests.HTTPError, match="bad fault rule"):
        api.admin.set_faults([{"path": "(", "status": 500}])
    with pytest.raises(requests.HTTPError, match="bad fault rule"):
        api.admin.set_faults([{"colour": "red"}])
