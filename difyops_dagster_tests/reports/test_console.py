"""The console client logs in the way each Dify version expects — tokens in the body up to 1.8, cookies plus
`X-CSRF-Token` from 1.9 — reads a run's node executions (cost = sum of `total_price`), renews a rejected
session by logging in again, and fails with the e-mail and Dify's message, never the password."""

from __future__ import annotations

import pytest

from difyops_dagster.dify.errors import DifyError
from difyops_dagster_tests.reports.samples import (
    CONSOLE_EMAIL,
    CONSOLE_PASSWORD,
    at,
    console_client,
    seeded_row,
)


@pytest.fixture(params=["1.8", "1.13"])
def versioned(request, standin_18, standin):
    """(stand-in, version) for both login styles, each with an app, one seeded run and a console account."""
    server = standin_18 if request.param == "1.8" else standin
    server.admin.reset()
    app = server.admin.create_app("bot", "app-console-tests-0001")
    server.admin.seed_logs(app["id"], [seeded_row("run-1", at(3, 9), total_tokens=500)])
    server.admin.set_console_account(CONSOLE_EMAIL, CONSOLE_PASSWORD)
    return server, request.param, app["id"]


def test_node_executions_are_read_after_the_versions_own_login(versioned):
    server, version, app_id = versioned
    client = console_client(server, version)
    nodes = client.node_executions(app_id, "run-1")
    assert [n.title for n in nodes] == ["Start", "LLM", "End"]
    assert sum(n.total_price for n in nodes) == pytest.approx(500 * 0.000002)
    assert {n.currency for n in nodes} == {"USD"}
    logins = [r for r in server.admin.request_log() if r["path"] == "/console/api/login"]
    assert len(logins) == 1


def test_a_wrong_password_fails_with_the_email_and_difys_message_but_not_the_password(versioned):
    server, version, app_id = versioned
    client = console_client(server, version, password="wrong-password-77")
    with pytest.raises(DifyError) as error:
        client.node_executions(app_id, "run-1")
    assert error.value.status == 401
    assert f"login as {CONSOLE_EMAIL} failed: Invalid email or password." in str(error.value)
    assert "wrong-password-77" not in str(error.value) and "wrong-password-77" not in repr(client)


def test_a_rejected_session_is_renewed_by_logging_in_again(versioned):
    server, version, app_id = versioned
    client = console_client(server, version)
    client.login()
    server.admin.expire_console_sessions(refresh=True)  # Dify renews through a valid refresh token instead
    if version == "1.8":
        client._access_token = "expired-token"  # what an expired JWT looks like to the server: unknown
    else:
        client._cookies["access_token"] = "expired-token"
    assert len(client.node_executions(app_id, "run-1")) == 3
    paths = [r["path"] for r in server.admin.request_log() if r["path"].startswith("/console/api/")]
    assert paths.count("/console/api/login") == 2
    assert "/console/api/refresh-token" in paths


@pytest.mark.parametrize("client_version", ["1.8", "1.13"])
def test_a_client_set_to_the_other_login_style_reads_the_style_off_the_answer(standin_18, standin, client_version):
    """Tokens in the body or cookies: whichever the login answered is used (a 1.9 setting spans both styles)."""
    server = standin if client_version == "1.8" else standin_18  # the opposite style
    server.admin.reset()
    app = server.admin.create_app("bot", "app-console-tests-0001")
    server.admin.seed_logs(app["id"], [seeded_row("run-1", at(3, 9), total_tokens=500)])
    server.admin.set_console_account(CONSOLE_EMAIL, CONSOLE_PASSWORD)
    assert len(console_client(server, client_version).node_executions(app["id"], "run-1")) == 3


def test_an_unknown_run_has_no_node_executions(versioned):
    server, version, app_id = versioned  # Dify's get_workflow_run_node_executions answers [] for an unknown run
    assert console_client(server, version).node_executions(app_id, "no-such-run") == []
