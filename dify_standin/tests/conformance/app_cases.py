"""Preparers of the app-side cases (auth, workflow runs, stops, logs, the console), as the recording script ran them.

The console cases use the credentials the recorded server's login gave (the notes say which): the body's tokens
and `Authorization: Bearer` up to 1.9.1, cookies plus `X-CSRF-Token` from 1.9.2 (`_no_csrf_header` /
`_wrong_csrf_header` send the body's tokens as cookies on the older versions); the password is sent base64-encoded
where the version wants it (`console_login_*` send what their body shape names).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time

import requests

from dify_standin.tests.conformance.knowledge_cases import Preparer
from dify_standin.tests.conformance.replay import Send
from dify_standin.tests.conformance.world import APP_KEY, EMAIL, PASSWORD, World, b64

WRONG_KEY = "not-a-real-key-0000"


def _app(world: World) -> Send:
    world.app()
    world.unknown()
    return Send()


def _finished_run(world: World) -> Send:
    world.app()
    world.finished_run()
    world.unknown()
    return Send()


def _logged_runs(world: World) -> Send:
    world.app()
    world.logged_runs()
    world.console_account()
    return Send()


def _auth(key: str | None = None, authorization: str | None = None, *, dataset_key: bool = False) -> Preparer:
    """`key` "" sends no Authorization header; `authorization` a raw one (a key without its scheme)."""

    def prepare(world: World) -> Send:
        world.app()
        return Send(key=world.api.server.dataset_key if dataset_key else key, authorization=authorization)

    return prepare


def _stop_while_running(world: World) -> Send:
    """A run of a slow app (two 3 s HTTP nodes between Start and End) by `rec-user`, stopped 1 s in."""
    world.app(nodes=["Start", "HTTP Request", "HTTP Request 2", "End"], duration_s=6.0)
    body = {"inputs": {"query": "slow"}, "user": "rec-user", "response_mode": "streaming"}
    started = threading.Event()

    def run() -> None:
        with contextlib.suppress(requests.RequestException), requests.post(
            world.api.base + "/workflows/run", json=body, headers={"Authorization": f"Bearer {APP_KEY}"},
            stream=True, timeout=30,
        ) as response:  # fmt: skip
            for line in response.iter_lines():
                if line.startswith(b"data: ") and not started.is_set():
                    world.ids["<task_id>"] = json.loads(line[6:])["task_id"]
                    started.set()

    threading.Thread(target=run, daemon=True).start()
    started.wait(10)
    time.sleep(1.0)
    return Send()


# -- the console


def _login(world: World) -> dict[str, str]:
    """The session the recording script held: the body's tokens (<= 1.9.1) or the cookies (>= 1.9.2)."""
    password = b64(PASSWORD) if world.behaviour.base64_password else PASSWORD
    response = requests.post(
        world.api.server.url + "/console/api/login",
        json={"email": EMAIL, "password": password, "remember_me": True},
        timeout=10,
    )
    if world.behaviour.cookie_login:
        return dict(response.cookies)
    return dict(response.json()["data"])


def _session(world: World) -> dict[str, str]:
    world.app()
    world.finished_run()
    world.console_account()
    world.unknown()
    return _login(world)


def _signed_in(world: World) -> Send:
    tokens = _session(world)
    if world.behaviour.cookie_login:
        return Send(cookies=tokens, headers={"X-CSRF-Token": tokens["csrf_token"]})
    return Send(authorization=f"Bearer {tokens['access_token']}")


def _bearer_access_token(world: World) -> Send:
    return Send(authorization=f"Bearer {_session(world)['access_token']}")


def _empty_bearer(world: World) -> Send:
    _session(world)
    return Send(authorization="Bearer ")


def _no_credentials(world: World) -> Send:
    _session(world)
    return Send()


def _cookies_without_csrf(world: World) -> Send:
    tokens = _session(world)
    return Send(
        cookies={name: tokens[name] for name in ("access_token", "refresh_token", "csrf_token") if name in tokens}
    )


def _cookies_with_a_wrong_csrf(world: World) -> Send:
    send = _cookies_without_csrf(world)
    return Send(cookies=send.cookies, headers={"X-CSRF-Token": "not-the-csrf-token"})


def _refresh(world: World, tokens: dict[str, str]) -> Send:
    """As `DifyConsoleClient.refresh` sends it: the JSON token (<= 1.9.1) or the cookies and the CSRF header."""
    if world.behaviour.cookie_login:
        return Send(cookies=tokens, headers={"X-CSRF-Token": tokens.get("csrf_token", "")})
    return Send(json={"refresh_token": tokens["refresh_token"]})


def _refresh_token(world: World) -> Send:
    return _refresh(world, _session(world))


def _refresh_reused(world: World) -> Send:
    tokens = _session(world)
    first = _refresh(world, tokens)
    requests.post(
        world.api.server.url + "/console/api/refresh-token",
        json=first.json,
        cookies=first.cookies,
        headers=first.headers,
        timeout=10,
    )
    return _refresh(world, tokens)


def _login_case(world: World) -> Send:
    world.console_account()
    return Send()


def _unknown_email(world: World) -> Send:
    world.console_account()
    world.ids["<email>"] = "nobody@example.com"
    return Send()


PREPARERS: dict[str, Preparer] = {
    "app_info": _app,
    "app_parameters": _app,
    "auth_app_key_on_dataset_route": _auth(APP_KEY),
    "auth_dataset_key_on_app_route": _auth(dataset_key=True),
    "auth_missing_app": _auth(""),
    "auth_missing_dataset": _auth(""),
    "auth_no_bearer_scheme": _auth(authorization=APP_KEY),
    "auth_wrong_key_app": _auth(WRONG_KEY),
    "auth_wrong_key_dataset": _auth(WRONG_KEY),
    "workflow_run_blocking": _app,
    "workflow_run_streaming": _app,
    "workflow_run_missing_inputs": _app,
    "workflow_run_missing_user": _app,
    "workflow_run_input_empty_required": _app,
    "workflow_run_input_extra_key": _app,
    "workflow_run_input_missing_required": _app,
    "workflow_run_input_too_long": _app,
    "workflow_run_input_too_long_streaming": _app,
    "workflow_run_input_unknown_key_only": _app,
    "workflow_run_input_wrong_type": _app,
    "workflow_run_detail": _finished_run,
    "workflow_run_detail_non_uuid": _app,
    "workflow_run_detail_unknown": _app,
    "workflow_stop_finished_task": _finished_run,
    "workflow_stop_unknown_task": _app,
    "workflow_stop_missing_user": _app,
    "x_workflow_stop_finished_task_other_user": _finished_run,
    "x_workflow_stop_running_other_user": _stop_while_running,
    "x_workflow_stop_running_same_user": _stop_while_running,
    "workflow_logs": _logged_runs,
    "workflow_logs_account_filter": _logged_runs,
    "workflow_logs_bad_date": _logged_runs,
    "workflow_logs_keyword": _logged_runs,
    "workflow_logs_limit_101": _logged_runs,
    "workflow_logs_page_past_end": _logged_runs,
    "workflow_logs_session_filter": _logged_runs,
    "workflow_logs_status_running": _logged_runs,
    "workflow_logs_status_succeeded": _logged_runs,
    "workflow_logs_window": _logged_runs,
    "console_login_base64_password": _login_case,
    "console_login_plaintext_password": _login_case,
    "console_login_unknown_email": _unknown_email,
    "console_login_wrong_password_base64": _login_case,
    "console_node_executions": _signed_in,
    "console_node_executions_unknown_app": _signed_in,
    "console_node_executions_unknown_run": _signed_in,
    "console_node_executions_bearer_access_token": _bearer_access_token,
    "console_node_executions_empty_bearer": _empty_bearer,
    "console_node_executions_no_credentials": _no_credentials,
    "console_node_executions_no_csrf_header": _cookies_without_csrf,
    "console_node_executions_wrong_csrf_header": _cookies_with_a_wrong_csrf,
    "console_refresh_token": _refresh_token,
    "console_refresh_token_no_cookie": _login_case,
    "console_refresh_token_reused": _refresh_reused,
}
