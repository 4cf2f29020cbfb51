"""Workflow apps, logs and the console as Dify serves them (shared/dify-api.md §6-§7)."""

from __future__ import annotations

import json
import time

from dify_standin.processes import StandinProcess
from dify_standin.tests.conftest import APP_KEY, Api


def make_app(api, **workflow):
    return api.admin.create_app("echo", APP_KEY, workflow={"outputs": {"answer": "Hi {{query}}"}, **workflow})


def test_a_failed_workflow_is_http_200_with_status_failed(api):
    make_app(api)
    body = api.app("POST", "/workflows/run", json={"inputs": {"query": "__fail__"}, "user": "u"}).json()
    assert body["data"]["status"] == "failed" and body["data"]["error"]


def test_user_and_required_inputs_are_validated(api):
    make_app(api)
    assert (
        api.app("POST", "/workflows/run", json={"inputs": {"query": "x"}}).json()["message"]
        == "Arg user must be provided."
    )
    missing = api.app("POST", "/workflows/run", json={"inputs": {}, "user": "u"})
    assert missing.status_code == 400 and "is required" in missing.json()["message"]


def test_streaming_sends_sse_events_and_pings(standin_process):
    with StandinProcess(extra_args=("--ping-seconds", "0.2")) as server:
        api = Api(server)
        make_app(api, duration_s=1.0)
        response = api.app(
            "POST",
            "/workflows/run",
            json={"inputs": {"query": "x"}, "user": "u", "response_mode": "streaming"},
            stream=True,
        )
        lines = [line for line in response.iter_lines(decode_unicode=True) if line]
        events = [json.loads(line[5:])["event"] for line in lines if line.startswith("data:")]
        assert events[0] == "workflow_started" and events[-1] == "workflow_finished"
        assert "event: ping" in lines


def test_stop_ends_a_streaming_run_as_stopped(api):
    make_app(api, duration_s=3)
    response = api.app(
        "POST",
        "/workflows/run",
        json={"inputs": {"query": "x"}, "user": "u", "response_mode": "streaming"},
        stream=True,
    )
    lines = response.iter_lines(decode_unicode=True)
    first = json.loads(next(line for line in lines if line.startswith("data:"))[5:])
    assert api.app("POST", f"/workflows/tasks/{first['task_id']}/stop", json={"user": "u"}).json() == {
        "result": "success"
    }
    finished = [json.loads(line[5:]) for line in lines if line.startswith("data:")][-1]
    assert finished["event"] == "workflow_finished" and finished["data"]["status"] == "stopped"


def test_a_streaming_client_that_goes_away_does_not_end_the_run(api):
    make_app(api, duration_s=1.0)
    response = api.app(
        "POST",
        "/workflows/run",
        json={"inputs": {"query": "gone"}, "user": "u", "response_mode": "streaming"},
        stream=True,
    )
    first = json.loads(next(line for line in response.iter_lines(decode_unicode=True) if line.startswith("data:"))[5:])
    response.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and api.admin.state()["runs"][0]["status"] == "running":
        time.sleep(0.1)
    detail = api.app("GET", f"/workflows/run/{first['workflow_run_id']}").json()
    assert detail["status"] == "succeeded" and detail["outputs"] == {"answer": "Hi gone"}


def test_logs_filter_by_window_and_status_and_reject_partial_succeeded(api):
    app = make_app(api)
    api.admin.seed_logs(
        app["id"],
        [
            {"created_at": "2026-11-01T00:00:00+00:00", "status": "failed", "error": "boom"},
            {"created_at": "2026-11-02T00:00:00+00:00"},
        ],
    )
    day = api.app(
        "GET",
        "/workflows/logs",
        params={"created_at__after": "2026-11-01T00:00:00Z", "created_at__before": "2026-11-01T23:59:59Z"},
    ).json()
    assert day["total"] == 1 and day["data"][0]["workflow_run"]["status"] == "failed"
    assert api.app("GET", "/workflows/logs", params={"status": "partial-succeeded"}).status_code == 400


def test_seeding_100000_log_rows_is_quick_and_pages_by_window(api):
    app = make_app(api)
    started = time.monotonic()
    count = api.admin.seed_logs(
        app["id"],
        generate={"count": 100_000, "start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z", "seed": 7},
    )
    assert count == 100_000 and time.monotonic() - started < 30
    page = api.app(
        "GET",
        "/workflows/logs",
        params={
            "limit": 100,
            "created_at__after": "2026-10-05T00:00:00Z",
            "created_at__before": "2026-10-06T00:00:00Z",
        },
    ).json()
    assert 2500 < page["total"] < 4000 and len(page["data"]) == 100


def _login(api, email="ops@example.com", password="pw"):
    api.admin.set_console_account("ops@example.com", "pw")
    return api.console_login(email, password)


def test_console_login_up_to_1_9_1_returns_tokens_in_the_body():
    with StandinProcess(dify_version="1.9.1") as server:
        api = Api(server)
        app = make_app(api)
        run = api.app("POST", "/workflows/run", json={"inputs": {"query": "x"}, "user": "u"}).json()
        session, response = _login(api)
        token = response.json()["data"]["access_token"]
        nodes = session.get(
            f"{server.url}/console/api/apps/{app['id']}/workflow-runs/{run['workflow_run_id']}/node-executions",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert nodes.status_code == 200 and nodes.json()["data"][1]["execution_metadata"]["currency"] == "USD"


def test_console_login_from_1_9_2_uses_cookies_and_csrf(api):
    app = make_app(api)
    run = api.app("POST", "/workflows/run", json={"inputs": {"query": "x"}, "user": "u"}).json()
    session, response = _login(api)
    assert response.json() == {"result": "success"}
    url = f"{api.server.url}/console/api/apps/{app['id']}/workflow-runs/{run['workflow_run_id']}/node-executions"
    assert session.get(url, timeout=5).json()["message"] == "CSRF token is missing or invalid."
    ok = session.get(url, headers={"X-CSRF-Token": session.cookies["csrf_token"]}, timeout=5)
    assert ok.status_code == 200 and len(ok.json()["data"]) == 3


def test_a_wrong_console_password_is_refused(api):
    _, response = _login(api, password="wrong")
    assert response.status_code == 401
