"""The console slice (shared/dify-api.md §7, §10; the recordings' console_* cases), version by version at patch
level: the login answers tokens in the body up to 1.9.1 (then `Authorization: Bearer`) and HttpOnly cookies plus a
readable CSRF token from 1.9.2 (then every call needs a matching `X-CSRF-Token`); from 1.11.2 the password must
arrive base64-encoded; a wrong password or unknown e-mail is a 400 of its own before 1.8.0 and one 401 from
1.8.0; every console 401 carries `WWW-Authenticate` from 1.8.0; refresh rotates the tokens; node executions
carry `execution_metadata` usage for live and seeded runs alike."""

from __future__ import annotations

import pytest
import requests

from dify_standin.tests.conftest import APP_KEY, Api

EMAIL, PASSWORD = "ops@example.com", "console-pw-1"


def prepare(api: Api) -> dict:
    app = api.admin.create_app("bot", APP_KEY, workflow={"outputs": {"answer": "A {{query}}"}, "tokens": 300})
    api.admin.set_console_account(EMAIL, PASSWORD)
    return app


def login(api: Api, password: str = PASSWORD, email: str = EMAIL, **kwargs) -> tuple[requests.Session, ...]:
    return api.console_login(email, password, **kwargs)


def nodes_url(api: Api, app_id: str, run_id: str) -> str:
    return f"{api.server.url}/console/api/apps/{app_id}/workflow-runs/{run_id}/node-executions"


def blocking_run(api: Api, query: str) -> str:
    return api.app("POST", "/workflows/run", json={"inputs": {"query": query}, "user": "alice"}).json()[
        "workflow_run_id"
    ]


def error(response: requests.Response) -> tuple:
    return response.status_code, response.json()["code"], response.json()["message"]


@pytest.mark.parametrize("version", ["1.8.1", "1.9.1"])
def test_up_to_1_9_1_login_returns_tokens_in_the_body_for_a_bearer_header(api_for, version):
    api = api_for(version)
    app = prepare(api)
    run_id = blocking_run(api, "x")
    session, response = login(api)
    tokens = response.json()["data"]
    assert response.json()["result"] == "success" and set(tokens) == {"access_token", "refresh_token"}
    assert not response.cookies
    session.cookies.set("access_token", tokens["access_token"])  # cookies are ignored up to 1.9.1
    assert error(session.get(nodes_url(api, app["id"], run_id), timeout=5))[1:] == (
        "unauthorized",
        "Invalid Authorization token.",
    )
    ok = requests.get(
        nodes_url(api, app["id"], run_id), headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=5
    )
    assert ok.status_code == 200 and len(ok.json()["data"]) == 3


@pytest.mark.parametrize("version", ["1.9.2", "1.11.1", "1.13.2"])
def test_from_1_9_2_login_sets_httponly_token_cookies_and_a_readable_csrf_cookie(api_for, version):
    api = api_for(version)
    prepare(api)
    session, response = login(api)
    assert response.json() == {"result": "success"}
    by_name = {c.split("=", 1)[0].strip(): c for c in response.raw.headers.getlist("Set-Cookie")}
    assert set(by_name) == set(session.cookies.keys()) == {"access_token", "refresh_token", "csrf_token"}
    assert "HttpOnly" in by_name["access_token"] and "HttpOnly" in by_name["refresh_token"]
    assert "HttpOnly" not in by_name["csrf_token"]


def test_from_1_11_2_the_password_must_be_base64_and_a_plain_one_is_invalid_encrypted_data(api_for):
    api = api_for("1.11.2")
    prepare(api)
    _, plain = login(api, encode=False)
    assert error(plain) == (401, "authentication_failed", "Invalid encrypted data")
    assert plain.headers["WWW-Authenticate"] == 'Bearer realm="api"' and not plain.cookies
    _, encoded = login(api, encode=True)
    assert encoded.json() == {"result": "success"} and set(encoded.cookies.keys()) >= {"access_token", "csrf_token"}


def test_up_to_1_11_1_the_password_is_compared_as_sent_so_base64_is_a_wrong_password(api_for):
    api = api_for("1.11.1")
    prepare(api)
    assert login(api, encode=False)[1].json() == {"result": "success"}
    assert error(login(api, encode=True)[1]) == (401, "authentication_failed", "Invalid email or password.")


@pytest.mark.parametrize(
    ("version", "wrong_password", "unknown_email"),
    [
        (
            "1.7.2",
            (400, "email_or_password_mismatch", "The email or password is mismatched."),
            (400, "account_not_found", "Account not found."),
        ),
        (
            "1.9.1",
            (401, "authentication_failed", "Invalid email or password."),
            (401, "authentication_failed", "Invalid email or password."),
        ),
        (
            "1.13.2",
            (401, "authentication_failed", "Invalid email or password."),
            (401, "authentication_failed", "Invalid email or password."),
        ),
    ],
)
def test_a_wrong_password_and_an_unknown_email_answer_as_each_version_did(
    api_for, version, wrong_password, unknown_email
):
    api = api_for(version)
    prepare(api)
    assert error(login(api, password="wrong-pw")[1]) == wrong_password
    assert error(login(api, email="nobody@example.com")[1]) == unknown_email


@pytest.mark.parametrize(("version", "header"), [("1.7.2", None), ("1.9.1", 'Bearer realm="api"')])
def test_console_401s_carry_www_authenticate_from_1_8(api_for, version, header):
    api = api_for(version)
    app = prepare(api)
    refused = requests.get(nodes_url(api, app["id"], blocking_run(api, "x")), timeout=5)
    assert error(refused) == (401, "unauthorized", "Invalid Authorization token.")
    assert refused.headers.get("WWW-Authenticate") == header


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("1.9.1", "Invalid Authorization header format. Expected 'Bearer <api-key>' format."),
        ("1.9.2", "Invalid Authorization token."),
    ],
)
def test_an_empty_bearer_is_malformed_up_to_1_9_1_and_just_invalid_after(api_for, version, message):
    api = api_for(version)
    app = prepare(api)
    url = nodes_url(api, app["id"], blocking_run(api, "x"))
    assert error(requests.get(url, headers={"Authorization": "Bearer "}, timeout=5)) == (401, "unauthorized", message)


def test_from_1_9_2_every_call_needs_the_csrf_header_of_its_own_session(api):
    app = prepare(api)
    run_id = blocking_run(api, "x")
    session, _ = login(api)
    other, _ = login(api)
    url = nodes_url(api, app["id"], run_id)
    missing = session.get(url, timeout=5)
    wrong = session.get(url, headers={"X-CSRF-Token": "forged"}, timeout=5)
    foreign = session.get(url, headers={"X-CSRF-Token": other.cookies["csrf_token"]}, timeout=5)
    bearer = requests.get(url, headers={"Authorization": f"Bearer {session.cookies['access_token']}"}, timeout=5)
    for refused in (missing, wrong, foreign, bearer):
        assert error(refused) == (401, "unauthorized", "CSRF token is missing or invalid.")
    ok = session.get(url, headers={"X-CSRF-Token": session.cookies["csrf_token"]}, timeout=5)
    assert ok.status_code == 200


def test_up_to_1_9_1_refresh_takes_the_body_token_and_rotates_both(api_for):
    api = api_for("1.9.1")
    prepare(api)
    _, response = login(api)
    first = response.json()["data"]
    url = f"{api.server.url}/console/api/refresh-token"
    renewed = requests.post(url, json={"refresh_token": first["refresh_token"]}, timeout=5).json()["data"]
    assert renewed["access_token"] != first["access_token"]
    reused = requests.post(url, json={"refresh_token": first["refresh_token"]}, timeout=5)
    assert (reused.status_code, reused.json()) == (401, {"result": "fail", "data": "Invalid refresh token"})


@pytest.mark.parametrize(
    ("version", "status", "body"),
    [
        (
            "1.7.2",
            415,
            {
                "code": "unsupported_media_type",
                "message": "Did not attempt to load JSON data because the request Content-Type was not "
                "'application/json'.",
                "status": 415,
            },
        ),
        (
            "1.9.1",
            400,
            {
                "errors": {"refresh_token": "Missing required parameter in the JSON body"},
                "message": "Input payload validation failed",
            },
        ),
        ("1.9.2", 401, {"result": "fail", "message": "No refresh token provided"}),
    ],
)
def test_a_refresh_without_a_token_answers_as_each_version_did(api_for, version, status, body):
    api = api_for(version)
    refused = requests.post(f"{api.server.url}/console/api/refresh-token", timeout=5)
    assert (refused.status_code, refused.json()) == (status, body)


def test_from_1_9_2_refresh_reads_the_cookie_and_sets_new_cookies(api):
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
    api.admin.expire_console_sessions(refresh=True)
    reused = session.post(f"{api.server.url}/console/api/refresh-token", timeout=5)
    assert (reused.status_code, reused.json()) == (401, {"result": "fail", "message": "Invalid refresh token"})


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
    assert [n["execution_metadata"] for n in nodes][::2] == [{}, {}]  # only a node that used a model has usage
    assert nodes[1]["execution_metadata"]["total_tokens"] == 300 and nodes[1]["execution_metadata"]["currency"] == "USD"
    assert float(nodes[1]["execution_metadata"]["total_price"]) == pytest.approx(300 * 0.000002)
    assert nodes[0]["inputs"]["query"] == "hello" and nodes[0]["inputs"]["sys.user_id"] == "alice"
    assert nodes[2]["outputs"] == {"answer": "A hello"}
    assert [n["predecessor_node_id"] for n in nodes] == [None, None, None]  # Dify >= 1.9's graph engine
    assert nodes[0]["created_by_role"] == "end_user" and nodes[0]["created_by_end_user"]["session_id"] == "alice"
    assert nodes[0]["created_by_end_user"]["type"] == "service-api"


@pytest.mark.parametrize(("version", "order", "predecessors"), [("1.7.2", ["End", "LLM", "Start"], 2),
                                                                ("1.9.1", ["Start", "LLM", "End"], 0)])  # fmt: skip
def test_before_1_9_node_executions_come_newest_first_with_their_predecessors(api_for, version, order, predecessors):
    api = api_for(version)
    app = prepare(api)
    run_id = blocking_run(api, "hello")
    _, response = login(api)
    token = response.json()["data"]["access_token"]
    nodes = requests.get(nodes_url(api, app["id"], run_id), headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert [n["title"] for n in nodes.json()["data"]] == order
    assert sum(1 for n in nodes.json()["data"] if n["predecessor_node_id"]) == predecessors


def test_node_executions_of_a_seeded_failed_run_end_at_the_failing_node(api):
    app = prepare(api)
    row = {"id": "seeded-f", "created_at": 1_790_000_000, "status": "failed", "error": "quota", "total_tokens": 80}
    api.admin.seed_logs(app["id"], [row])
    nodes = console_get(api, nodes_url(api, app["id"], "seeded-f")).json()["data"]
    assert [(n["title"], n["status"], n["error"]) for n in nodes] == [
        ("Start", "succeeded", None),
        ("LLM", "failed", "quota"),
    ]
    assert sum(n["execution_metadata"].get("total_tokens", 0) for n in nodes) == 80
    assert nodes[0]["created_at"] == 1_790_000_000


def test_an_unknown_run_has_no_node_executions_and_an_unknown_app_is_404(api):
    app = prepare(api)
    assert console_get(api, nodes_url(api, app["id"], "no-such-run")).json() == {"data": []}
    missing = console_get(api, nodes_url(api, "no-such-app", "no-such-run"))
    assert (missing.status_code, missing.json()["code"]) == (404, "app_not_found")
