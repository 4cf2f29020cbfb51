"""Dify's console API, only for what the Service API lacks: a run's node executions (its cost) and apps' datasets.

Apps are changed the way Dify's editor changes them (routes and version differences in dify_standin/README.md,
"Console apps and retrieval"): a workflow or chatflow by reading its draft, writing it back with the `hash` it
came with (a stale one is 409 `draft_workflow_not_sync`) and publishing; a chat, completion or agent app by
posting its whole model configuration.

The console is a browser API: it takes an account login, not a key, and the login changed twice.

| Dify | password sent | login answers | later calls send |
|---|---|---|---|
| <= 1.9.1 | as typed | `{"result":"success","data":{"access_token","refresh_token"}}` | `Authorization: Bearer` |
| 1.9.2 - 1.11.1 | as typed | `{"result":"success"}` + cookies `access_token`, `refresh_token`, `csrf_token` | cookies |
| >= 1.11.2 | base64-encoded | the same cookies | cookies |

Cookie sessions also send `X-CSRF-Token` equal to the `csrf_token` cookie (all three `__Host-`-prefixed when
the console is served over https). Which credentials came back is read off the answer itself, so a server
between 1.9.1 and 1.9.2 needs no exact setting. The password encoding is chosen by version; when the server
refuses it in the way only the other encoding explains (401 "Invalid encrypted data" for a plain password;
"Invalid email or password." / `email_or_password_mismatch` for an encoded one on a server that compares it as
typed), the other encoding is tried once, so a wrong password costs two of Dify's login attempts.

A rejected session (401) is renewed once through `POST /refresh-token`, then by logging in again; a second
rejection raises. Every failure is a `DifyError` whose text names the endpoint and the account's e-mail,
never the password or a token. Requests go through the same `DifyTransport` as the service API (retries,
timeouts, rate limit); its bearer header is replaced per request by the console's own credentials.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass
from typing import Any

import requests

from difyops_dagster.dify.app_models import AppDetail, DraftSync, Publication, Workflow
from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.errors import DifyError, parse_model
from difyops_dagster.dify.models import _timestamp
from difyops_dagster.dify.transport import DifyTransport, RateLimiter, TransportOptions

CONSOLE_PREFIX = "/console/api"
CREDENTIAL_STATUSES = (401, 403)
# What a login answers when the password arrived in the other encoding (see the module docstring).
_PLAIN_REFUSED = "Invalid encrypted data"
_WRONG_PASSWORD = ("Invalid email or password.", "email_or_password_mismatch")


@dataclass(frozen=True)
class NodeExecution:
    node_id: str
    node_type: str
    title: str
    status: str
    elapsed_time: float
    total_tokens: int
    total_price: float
    currency: str | None
    error: str | None

    @classmethod
    def from_json(cls, data: dict) -> NodeExecution:
        metadata = data.get("execution_metadata") or {}
        price = metadata.get("total_price")
        currency = metadata.get("currency")
        if price is None:  # older LLM nodes only report usage inside process_data
            usage = (data.get("process_data") or {}).get("usage") or {}
            price, currency = usage.get("total_price"), usage.get("currency") or currency
        return cls(
            node_id=str(data.get("node_id") or ""),
            node_type=str(data.get("node_type") or ""),
            title=str(data.get("title") or ""),
            status=str(data.get("status") or "unknown"),
            elapsed_time=float(data.get("elapsed_time") or 0.0),
            total_tokens=int(metadata.get("total_tokens") or 0),
            total_price=_number(price),
            currency=currency or None,
            error=data.get("error") or None,
        )


def _number(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


class DifyConsoleClient:
    """One logged-in console account. Not a resource: the reports build one per run from settings."""

    def __init__(
        self,
        console_url: str,
        email: str,
        password: str,
        *,
        compat: DifyCompat,
        options: TransportOptions,
        limiter: RateLimiter,
    ):
        self.email = email
        self.compat = compat
        self._password = password
        self.transport = DifyTransport(console_url.rstrip("/") + CONSOLE_PREFIX, "", options, limiter)
        self._access_token: str | None = None
        self._refresh_token: str | None = None
        self._cookies: dict[str, str] = {}
        self._renewing = threading.Lock()  # node executions are read from several threads

    def __repr__(self) -> str:
        return f"DifyConsoleClient({self.transport.base_url!r}, email={self.email!r})"

    @property
    def logged_in(self) -> bool:
        return bool(self._access_token or self._cookies)

    def _auth(self) -> dict[str, Any]:
        """Per-request credentials; a None header value removes the transport's own bearer header.

        Cookies go out as an explicit `Cookie` header built from this client's own copy: requests would let
        the cookies its session jar caught at login override per-request cookies, hiding a renewed session.
        """
        if self._cookies:
            csrf = self._cookies.get("csrf_token") or self._cookies.get("__Host-csrf_token") or ""
            cookie = "; ".join(f"{name}={value}" for name, value in self._cookies.items())
            return {"headers": {"Authorization": None, "X-CSRF-Token": csrf, "Cookie": cookie}}
        return {"headers": {"Authorization": f"Bearer {self._access_token}"}}

    def _password_as(self, encoded: bool) -> str:
        return base64.b64encode(self._password.encode()).decode() if encoded else self._password

    def login(self) -> None:
        """Log in, keeping whichever credentials this Dify version hands out."""
        encoded = self.compat.base64_console_password
        try:
            response = self._post_login(encoded)
        except DifyError as first:
            if not _refused_for_encoding(first, encoded):
                raise self._login_failed(first) from None
            try:
                response = self._post_login(not encoded)
            except DifyError as retry:
                # a wrong password is refused in both encodings: the first answer is the one that means it
                shown = first if _refused_for_encoding(retry, not encoded) else retry
                raise self._login_failed(shown) from None
        with response:
            self._take_credentials(response, "POST /login")

    def _post_login(self, encoded: bool) -> requests.Response:
        body = {"email": self.email, "password": self._password_as(encoded), "remember_me": True}
        return self.transport.request("POST", "/login", safe=False, json=body, headers={"Authorization": None})

    def _login_failed(self, exc: DifyError) -> DifyError:
        return DifyError(exc.endpoint, exc.status, exc.code, f"login as {self.email} failed: {exc.message}")

    def _take_credentials(self, response: requests.Response, endpoint: str) -> None:
        """Tokens from the body (<= 1.9.1) or the cookies (>= 1.9.2), whichever the answer carries."""
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        data = payload.get("data") if isinstance(payload, dict) else None
        if isinstance(data, str):  # 0.x answered the bare token
            data = {"access_token": data}
        if isinstance(data, dict) and data.get("access_token"):
            self._cookies = {}
            self._access_token = str(data["access_token"])
            self._refresh_token = data.get("refresh_token") or self._refresh_token
            return
        cookies = {c.name: c.value for c in response.cookies if c.value is not None}
        if not any(name.endswith("access_token") for name in cookies):
            raise DifyError(endpoint, response.status_code, "malformed_response", "no access token in the answer")
        self._access_token = None
        self._cookies.update(cookies)

    def refresh(self) -> bool:
        """Renew the session without the password; False when the server refuses (then log in again)."""
        if not self.logged_in:
            return False
        kwargs = self._auth()
        if not self._cookies:
            if not self._refresh_token:
                return False
            kwargs = {"json": {"refresh_token": self._refresh_token}, "headers": {"Authorization": None}}
        try:
            response = self.transport.request("POST", "/refresh-token", safe=False, **kwargs)
        except DifyError as exc:
            if exc.status in CREDENTIAL_STATUSES:
                return False
            raise
        with response:
            try:
                self._take_credentials(response, "POST /refresh-token")
            except DifyError:
                return False
        return True

    def _json(self, method: str, path: str, *, safe: bool, **kwargs: Any) -> dict:
        """One console call, logging in first if needed and once more if the session was rejected."""
        with self._renewing:
            if not self.logged_in:
                self.login()
            rejected = self._auth()
        try:
            return self.transport.json(method, path, safe=safe, **kwargs, **rejected)
        except DifyError as exc:
            if exc.status not in CREDENTIAL_STATUSES:
                raise
            with self._renewing:
                if self._auth() == rejected and not self.refresh():  # another thread may have renewed already
                    self.login()
                renewed = self._auth()
            return self.transport.json(method, path, safe=safe, **kwargs, **renewed)

    def node_executions(self, app_id: str, run_id: str) -> list[NodeExecution]:
        path = f"/apps/{app_id}/workflow-runs/{run_id}/node-executions"
        body = self._json("GET", path, safe=True)
        items = body.get("data")
        if not isinstance(items, list):
            raise DifyError(f"GET {path}", 200, "malformed_response", "node executions without a `data` array")
        return [NodeExecution.from_json(item) for item in items]

    # -- apps (the routes Dify's editor uses to change which datasets an app reads; stand-in README)

    def get_app(self, app_id: str) -> AppDetail:
        """The app's mode and, for chat / completion / agent apps, its model configuration."""
        path = f"/apps/{app_id}"
        return parse_model(f"GET {path}", AppDetail.from_json, self._json("GET", path, safe=True))

    def get_draft_workflow(self, app_id: str) -> Workflow:
        """The draft of a workflow or chatflow app, with the `hash` a sync must send back. 404
        `draft_workflow_not_exist` when the editor never saved one; 404 `app_not_found` for other modes."""
        path = f"/apps/{app_id}/workflows/draft"
        return parse_model(f"GET {path}", Workflow.from_json, self._json("GET", path, safe=True))

    def sync_draft_workflow(self, app_id: str, draft: Workflow, graph: dict[str, Any]) -> DraftSync:
        """Write `graph` into the draft `draft` was read from. A draft changed since (by a person, or another run)
        is Dify's 409 `draft_workflow_not_sync`, raised as `DifyError`: read it again and redo the change.
        Not retried by the transport: a retry after a lost answer would meet its own new hash."""
        path = f"/apps/{app_id}/workflows/draft"
        body = self._json("POST", path, safe=False, json=draft.sync_body(graph))
        return parse_model(f"POST {path}", lambda b: DraftSync(str(b["hash"]), _timestamp(b.get("updated_at"))), body)

    def publish_workflow(self, app_id: str, marked_name: str = "", marked_comment: str = "") -> Publication:
        """Publish the draft: from now on the app serves it. Dify limits the name to 20 characters, the comment
        to 100 (400 `invalid_param`)."""
        path = f"/apps/{app_id}/workflows/publish"
        body = self._json("POST", path, safe=False, json={"marked_name": marked_name, "marked_comment": marked_comment})
        return Publication(_timestamp(body.get("created_at")))

    def get_published_workflow(self, app_id: str) -> Workflow | None:
        """The workflow users get, or None for an app never published (Dify answers an object of nulls)."""
        path = f"/apps/{app_id}/workflows/publish"
        body = self._json("GET", path, safe=True)
        if body.get("id") is None:
            return None
        return parse_model(f"GET {path}", Workflow.from_json, body)

    def update_model_config(self, app_id: str, config: dict[str, Any]) -> None:
        """Replace the whole model configuration of a chat, completion or agent app (Dify keeps no partial
        update): post what `get_app` returned, changed. Effective at once; there is no publish step."""
        path = f"/apps/{app_id}/model-config"
        body = self._json("POST", path, safe=False, json=config)
        if body.get("result") != "success":
            raise DifyError(f"POST {path}", 200, "malformed_response", "model-config answered without success")

    def close(self) -> None:
        self.transport.close()


def _refused_for_encoding(exc: DifyError, encoded: bool) -> bool:
    """Did the login fail in the way only the other password encoding explains?"""
    if exc.status not in (400, 401):
        return False
    if not encoded:
        return _PLAIN_REFUSED in exc.message
    return exc.message in _WRONG_PASSWORD or exc.code in _WRONG_PASSWORD
