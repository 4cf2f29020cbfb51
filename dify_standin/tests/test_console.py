"""The console slice (shared/dify-api.md §7): login answers tokens in the body up to 1.8 and HttpOnly cookies
plus a readable CSRF token from 1.9 (then every call needs a matching `X-CSRF-Token`), a wrong password is
401 `authentication_failed` in 1.x (400 `email_or_password_mismatch` in 0.x), refresh rotates the tokens, and
node executions carry `execution_metadata` usage for live and seeded runs alike."""

from __future__ import annotations

import pytest
import requests

from dify_standin.processes import StandinProcess
from dify_standin.tests.conftest import APP_KEY, Api

EMAIL, PASSWORD = "ops@example.com", "console-pw-1"


@pytest.fixture(scope="module")
def server_18():
    with StandinProcess(dify_version="1.8") as server:
        yield server


@pytest.fixture
def api18(server_18) -> Api:
    server_18.admin.reset()
    return Api(server_18)


def prepare(api: Api) -> dict:
    app = api.admin.create_app("bot", APP_KEY, workflow={"outputs": {"answer": "A {{query}}"}, "tokens": 300})
    api.admin.set_console_account(EMAIL, PASSWORD)
    return app


def login(api: Api, password: str = PASSWORD) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    response = session.post(
        f"{api.server.url}/console/api/login",
        json={"email": EMAIL, "password": password, "remember_me": True},
        timeout=5,
    )
    return session, response


def nodes_url(api: Api, app_id: str, run_id: str) -> str:
    return f"{api.server.url}/console/api/apps/{app_id}/workflow-runs/{run_id}/node-executions"


def blocking_run(api: Api, query: str) -> str:
    return api.app("POST", "/workflows/run", json={"inputs": {"query": query}, "user": "alice"}).json()[
        "workflow_run_id"
    ]


def test_up_to_1_8_login_returns_tokens_in_the_body_for_a_bearer_header(api18):
    app = prepare(api18)
    run_id = blocking_run(api18, "x")
    session, response = login(api18)
    tokens = response.json()["data"]
    assert response.json()["result"] == "success" and set(tokens) == {"access_token", "refresh_token"}
    assert not response.cookies
    assert session.get(nodes_url(api18, app["id"], run_id), timeout=5).status_code == 401
    ok = requests.get(
        nodes_url(api18, app["id"], run_id), headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=5
    )
    assert ok.status_code == 200 and len(ok.json()["data"]) == 3


def test_from_1_9_login_sets_httponly_token_cookies_and_a_readable_csrf_cookie(api):
    prepare(api)
    session, response = login(api)
    assert response.json() == {"result": "success"}
    by_name = {c.split("=", 1)[0].strip(): c for c in response.raw.headers.getlist("Set-Cookie")}
    assert set(by_name) == set(session.cookies.keys()) == {"access_token", "refresh_token", "csrf_token"}
    assert "HttpOnly" in by_name["access_token"] and "HttpOnly" in by_name["refresh_token"]
    assert "HttpOnly" not in by_name["csrf_token"]


def test_from_1_9_every_call_needs_the_csrf_header_of_its_own_session(api):
    app = prepare(api)
    run_id = blocking_run(api, "x")
    session, _ = login(api)
    other, _ = login(api)
    url = nodes_url(api, app["id"], run_id)
    missing = session.get(url, timeout=5)
    wrong = session.get(url, headers={"X-CSRF-Token": "forged"}, timeout=5)
    foreign = session.get(url, headers={"X-CSRF-Token": other.cookies["csrf_token"]}, timeout=5)
    for response in (missing, wrong, foreign):
        assert (response.status_code, response.json()["message"]) == (401, "CSRF token is missing or invalid.")
    ok = session.get(url, headers={"X-CSRF-Token": session.cookies["csrf_token"]}, timeout=5)
    assert ok.status_code == 200


def test_a_wrong_password_is_401_in_1_x_and_400_in_0_x(api):
    prepare(api)
    _, refused = login(api, password="wrong")
    assert (refused.status_code, refused.json()["code"], refused.json()["message"]) == (
        401,
        "authentication_failed",
        "Invalid email or password.",
    )
    with StandinProcess(dify_version="0.15") as old:
        old_api = Api(old)
        prepare(old_api)
        _, mismatch = login(old_api, password="wrong")
    assert (mismatch.status_code, mismatch.json()["code"]) == (400, "email_or_password_mismatch")


def test_up_to_1_8_refresh_takes_the_body_token_and_rotates_both(api18):
    prepare(api18)
    _, response = login(api18)
    first = response.json()["data"]
    url = f"{api18.server.url}/console/api/refresh-token"
    renewed = requests.post(url, json={"refresh_token": first["refresh_token"]}, timeout=5).json()["data"]
    assert renewed["access_token"] != first["access_token"]
    reused = requests.post(url, json={"refresh_token": first["refresh_token"]}, timeout=5)
    assert (reused.status_code, reused.json()) == (401, {"result": "fail", "data": "Invalid refresh token"})


def test_from_1_9_refresh_reads_the_cookie_and_sets_new_cookies(api):
    app = prepare(api)
    run_id = blocking_run(api, "x")
    session, _ = login(api)
    old_csrf = session.cookies["csrf_token"]
    api.admin.expire_console_sessions()
    url = nodes_url(api, app["id"], run_id)
    stale = session.get(url, headers={"X-CSRF-Token": old_csrf}, timeout=5)
    assert (stale.status_code, stale.json()["message"]) == (401, "Invalid Authorization token.")
    assert session.post(f"{api.server.url}/console/api/refresh-token", timeout=5).json() == {"result": "success"}
    assert session.cookies["csrf_token"] != old_csrf
    assert session.get(url, headers={"X-CSRF-Token": session.cookies["csrf_token"]}, timeout=5).status_code == 200
    bare = requests.post(f"{api.server.url}/console/api/refresh-token", timeout=5)
    assert (bare.status_code, bare.json()["message"]) == (401, "No refresh token provided")
    api.admin.expire_console_sessions(refresh=True)
    assert session.post(f"{api.server.url}/console/api/refresh-token", timeout=5).status_code == 401


def console_get(api: Api, url: str) -> requests.Response:
    session, _ = login(api)
    return session.get(url, headers={"X-CSRF-Token": session.cookies["csrf_token"]}, timeout=5)


def test_node_executions_of_a_live_run_carry_usage_and_its_end_user(api):
    app = prepare(api)
    run_id = blocking_run(api, "hello")
    nodes = console_get(api, nodes_url(api, app["id"], run_id)).json()["data"]
    assert [(n["index"], n["title"], n["node_type"], n["status"]) for n in nodes] == [
        (1, "Start", "start", "succeeded"),
        (2, "LLM", "llm", "succeeded"),
        (3, "End", "end", "succeeded"),
    ]
    assert [n["execution_metadata"]["total_tokens"] for n in nodes] == [0, 300, 0]
    assert {n["execution_metadata"]["currency"] for n in nodes} == {"USD"}
    assert float(nodes[1]["execution_metadata"]["total_price"]) == pytest.approx(300 * 0.000002)
    usage = nodes[1]["process_data"]["usage"]  # Dify's LLMUsage: the prompt/completion split lives only here
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (225, 75, 300)
    assert usage["total_price"] == nodes[1]["execution_metadata"]["total_price"] and usage["currency"] == "USD"
    assert nodes[0]["process_data"] == nodes[2]["process_data"] == {}
    assert nodes[0]["inputs"] == {"query": "hello"} and nodes[2]["outputs"] == {"answer": "A hello"}
    assert nodes[1]["predecessor_node_id"] == nodes[0]["node_id"]
    assert nodes[0]["created_by_role"] == "end_user" and nodes[0]["created_by_end_user"]["session_id"] == "alice"


def test_node_executions_of_a_seeded_failed_run_end_at_the_failing_node(api):
    app = prepare(api)
    row = {"id": "seeded-f", "created_at": 1_790_000_000, "status": "failed", "error": "quota", "total_tokens": 80}
    api.admin.seed_logs(app["id"], [row])
    nodes = console_get(api, nodes_url(api, app["id"], "seeded-f")).json()["data"]
    assert [(n["title"], n["status"], n["error"]) for n in nodes] == [
        ("Start", "succeeded", None),
        ("LLM", "failed", "quota"),
    ]
    assert sum(n["execution_metadata"]["total_tokens"] for n in nodes) == 80
    assert (
        nodes[1]["process_data"]["usage"]["prompt_tokens"] + nodes[1]["process_data"]["usage"]["completion_tokens"]
        == 80
    )
    assert nodes[0]["created_at"] == 1_790_000_000


def test_a_seeded_run_fails_at_the_node_its_error_names(api):
    """Dify's text for a node failure is "Node {title} run failed: …" (WorkflowNodeRunFailedError)."""
    app = api.admin.create_app("four", "app-four-nodes-0001", workflow={"nodes": ["Start", "Knowledge", "LLM", "End"]})
    rows = [
        {"id": "kr", "created_at": 1_790_000_000, "status": "failed", "total_steps": 3,
         "error": "Node Knowledge run failed: Connection to vector database refused"},
        {"id": "other", "created_at": 1_790_000_001, "status": "failed", "total_steps": 3,
         "error": "Node HTTP Request run failed: timeout"},  # not a node of this workflow: the default node
    ]  # fmt: skip
    api.admin.seed_logs(app["id"], rows)
    api.admin.set_console_account(EMAIL, PASSWORD)
    failed_at = {}
    for run_id in ("kr", "other"):
        nodes = console_get(api, nodes_url(api, app["id"], run_id)).json()["data"]
        failed_at[run_id] = [n["title"] for n in nodes if n["status"] == "failed"]
    assert failed_at == {"kr": ["Knowledge"], "other": ["LLM"]}


def test_an_unknown_run_has_no_node_executions_and_an_unknown_app_is_404(api):
    app = prepare(api)
    assert console_get(api, nodes_url(api, app["id"], "no-such-run")).json() == {"data": []}
    missing = console_get(api, nodes_url(api, "no-such-app", "no-such-run"))
    assert (missing.status_code, missing.json()["code"]) == (404, "app_not_found")
