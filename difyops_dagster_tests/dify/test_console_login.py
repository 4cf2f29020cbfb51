"""The console login as each Dify version wants it, whatever `dify.version` says.

Recorded on running servers (shared/dify-recordings): up to 1.9.1 the login answers tokens in its body and later
calls send `Authorization: Bearer`; from 1.9.2 it sets cookies and later calls need `X-CSRF-Token`; from 1.11.2
the password must arrive base64-encoded (a plain one: 401 "Invalid encrypted data"). The credentials are read off
the answer, and a password refused for its encoding is sent once more in the other one, so a `dify.version` of
`1.9` (or a stale one) still logs in, at the cost of one more login call.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from dify_standin.processes import StandinProcess
from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.console import DifyConsoleClient
from difyops_dagster.dify.errors import DifyError
from difyops_dagster.dify.transport import RateLimiter, TransportOptions

EMAIL, PASSWORD = "ops@example.com", "console-Passw0rd!"
FAST = TransportOptions(max_retries=0, backoff_factor_s=0.01, rate_limit_per_second=0)
SERVERS = ["1.7.2", "1.9.1", "1.9.2", "1.11.1", "1.11.2", "1.13.2"]


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, StandinProcess]]:
    started = {version: StandinProcess(dify_version=version).start() for version in SERVERS}
    try:
        yield started
    finally:
        for server in started.values():
            server.stop()


def _prepared(server: StandinProcess) -> str:
    server.admin.reset()
    app = server.admin.create_app("bot", "app-console-login-0001")
    server.admin.seed_logs(app["id"], [{"id": "run-1", "created_at": 1_790_000_000, "total_tokens": 100}])
    server.admin.set_console_account(EMAIL, PASSWORD)
    return app["id"]


def _client(server: StandinProcess, configured: str, password: str = PASSWORD) -> DifyConsoleClient:
    return DifyConsoleClient(
        server.url, EMAIL, password, compat=DifyCompat.parse(configured), options=FAST, limiter=RateLimiter(0)
    )


def _logins(server: StandinProcess) -> list[int]:
    return [r["status"] for r in server.admin.request_log() if r["path"] == "/console/api/login"]


@pytest.mark.parametrize("version", SERVERS)
def test_with_the_exact_version_one_login_reads_the_node_executions(servers, version):
    server = servers[version]
    app_id = _prepared(server)
    nodes = _client(server, version).node_executions(app_id, "run-1")
    assert [n.title for n in nodes] == ["Start", "LLM", "End"]
    assert _logins(server) == [200]


@pytest.mark.parametrize(
    ("configured", "version"),
    [
        ("1.9", "1.9.1"),  # the 1.9 patch that still answers tokens in the body
        ("1.9", "1.9.2"),  # the first that answers cookies
        ("1.11", "1.11.2"),  # the first that wants the password encoded
        ("1.13", "1.11.1"),  # a settings file ahead of its server
        ("1.8", "1.13.2"),  # a server upgraded before its settings
    ],
)
def test_a_minor_or_stale_version_setting_still_logs_in(servers, configured, version):
    server = servers[version]
    app_id = _prepared(server)
    assert len(_client(server, configured).node_executions(app_id, "run-1")) == 3
    assert _logins(server)[-1] == 200 and len(_logins(server)) <= 2


@pytest.mark.parametrize("version", ["1.9.1", "1.11.2", "1.13.2"])
def test_a_wrong_password_says_so_and_never_shows_the_password(servers, version):
    server = servers[version]
    app_id = _prepared(server)
    client = _client(server, version, password="wrong-password-77")
    with pytest.raises(DifyError) as error:
        client.node_executions(app_id, "run-1")
    assert f"login as {EMAIL} failed: Invalid email or password." in str(error.value)
    assert "Invalid encrypted data" not in str(error.value)
    assert "wrong-password-77" not in str(error.value) and "wrong-password-77" not in repr(client)


def test_a_plain_password_to_1_11_2_is_what_dify_refuses(servers):
    """The failure this client avoids: the plain password that 1.11.1 takes is refused by 1.11.2."""
    server = servers["1.11.2"]
    _prepared(server)
    answer = requests.post(server.url + "/console/api/login", json={"email": EMAIL, "password": PASSWORD}, timeout=10)
    assert answer.status_code == 401 and answer.json()["message"] == "Invalid encrypted data"
