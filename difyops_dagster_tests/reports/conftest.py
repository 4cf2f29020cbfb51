"""Fixtures of the report tests: a Dify 1.8 stand-in, October's runs seeded, the secrets in the environment,
and the shared webhook and SMTP receivers of the notify tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dify_standin.processes import StandinProcess
from difyops_dagster_tests.notify.conftest import smtp, smtp_server, webhook_server, webhooks  # noqa: F401 (shared receivers)
from difyops_dagster_tests.reports.samples import CONSOLE_EMAIL, CONSOLE_PASSWORD
from difyops_dagster_tests.reports.scenario import BOT_KEY, ROWS


@pytest.fixture(scope="module")
def standin_18() -> Iterator[StandinProcess]:
    """A stand-in speaking Dify 1.8: console login answers tokens in the body."""
    with StandinProcess(dify_version="1.8") as server:
        yield server


@pytest.fixture
def month(standin) -> dict:
    """The stand-in with the app `support` holding October's runs, and a console account."""
    app = standin.admin.create_app("support", BOT_KEY)
    standin.admin.seed_logs(app["id"], ROWS)
    standin.admin.set_console_account(CONSOLE_EMAIL, CONSOLE_PASSWORD)
    return app


@pytest.fixture
def report_env(monkeypatch) -> dict[str, str]:
    """The secrets the report settings name, set in the environment (and returned for `parse_settings`)."""
    env = {"BOT_KEY": BOT_KEY, "OTHER_KEY": "app-not-known-to-dify-01", "CONSOLE_PASSWORD": CONSOLE_PASSWORD,
           "WRONG_CONSOLE_PASSWORD": "not-the-console-password"}  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
