"""Dify's console API, only for what the Service API lacks: the node executions of a run (hence its cost).

The console is a browser API: it takes an account login, not a key, and the login changed in 1.9.

| Dify | `POST /console/api/login` answers | later calls send |
|---|---|---|
| <= 1.8 | `{"result":"success","data":{"access_token","refresh_token"}}` | `Authorization: Bearer <token>` |
| >= 1.9 | `{"result":"success"}`, cookies `access_token`, `refresh_token`, `csrf_token` | cookies, `X-CSRF-Token` |

(The cookies are `__Host-`-prefixed when the console is served over https.)

A rejected session (401) is renewed once through `POST /refresh-token`, then by logging in again; a second
rejection raises. Every failure is a `DifyError` whose text names the endpoint and the account's e-mail,
never the password or a token. Requests go through the same `DifyTransport` as the service API (retries,
timeouts, rate limit); its bearer header is replaced per request by the console's own credentials.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import requests

from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.errors import DifyError
from difyops_dagster.dify.transport import DifyTransport, RateLimiter, TransportOptions

CONSOLE_PREFIX = "/console/api"
CREDENTIAL_STATUSES = (401, 403)


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
    prompt_tokens: int | None = None  # None: the node reports no model usage (only model-calling nodes do)
    completion_tokens: int | None = None

    @classmethod
    def from_json(cls, data: dict) -> NodeExecution:
        """`execution_metadata` carries `total_tokens`, `total_price`, `currency` (null or `{}` on start and end
        nodes); the prompt/completion split is only in `process_data.usage`, Dify's `LLMUsage` as JSON, which LLM,
        question-classifier, parameter-extractor and knowledge-retrieval nodes write (Dify 1.x,
        api/core/workflow/nodes/llm/node.py: `process_data["usage"] = jsonable_encoder(usage)`)."""
        metadata = data.get("execution_metadata") or {}
        usage = (data.get("process_data") or {}).get("usage") or {}
        price = metadata.get("total_price")
        currency = metadata.get("currency")
        if price is None:  # older LLM nodes only report usage inside process_data
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
            prompt_tokens=_count(usage.get("prompt_tokens")),
            completion_tokens=_count(usage.get("completion_tokens")),
        )


def _count(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


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
        if self.compat.cookie_console_login:
            csrf = self._cookies.get("csrf_token") or self._cookies.get("__Host-csrf_token") or ""
            cookie = "; ".join(f"{name}={value}" for name, value in self._cookies.items())
            return {"headers": {"Authorization": None, "X-CSRF-Token": csrf, "Cookie": cookie}}
        return {"headers": {"Authorization": f"Bearer {self._access_token}"}}

    def login(self) -> None:
        """Log in, keeping whichever credentials this Dify version hands out."""
        body = {"email": self.email, "password": self._password, "remember_me": True}
        try:
            response = self.transport.request("POST", "/login", safe=False, json=body, headers={"Authorization": None})
        except DifyError as exc:
            message = f"login as {self.email} failed: {exc.message}"
            raise DifyError(exc.endpoint, exc.status, exc.code, message) from None
        with response:
            self._take_credentials(response, "POST /login")

    def _take_credentials(self, response: requests.Response, endpoint: str) -> None:
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if self.compat.cookie_console_login:
            cookies = {c.name: c.value for c in response.cookies if c.value is not None}
            if cookies:
                self._cookies.update(cookies)
            if not any(name.endswith("access_token") for name in self._cookies):
                raise DifyError(endpoint, response.status_code, "malformed_response", "no access_token cookie set")
            return
        data = payload.get("data") if isinstance(payload, dict) else None
        if isinstance(data, str):  # 0.x answered the bare token
            data = {"access_token": data}
        if not isinstance(data, dict) or not data.get("access_token"):
            raise DifyError(endpoint, response.status_code, "malformed_response", "no access_token in the answer")
        self._access_token = str(data["access_token"])
        self._refresh_token = data.get("refresh_token") or self._refresh_token

    def refresh(self) -> bool:
        """Renew the session without the password; False when the server refuses (then log in again)."""
        if not self.logged_in:
            return False
        kwargs = self._auth()
        if not self.compat.cookie_console_login:
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
            if self.compat.cookie_console_login:
                self._cookies.update({c.name: c.value for c in response.cookies if c.value is not None})
                return True
            try:
                self._take_credentials(response, "POST /refresh-token")
            except DifyError:
                return False
        return True

    def node_executions(self, app_id: str, run_id: str) -> list[NodeExecution]:
        """The nodes of one run, logging in first if needed and once more if the session was rejected."""
        with self._renewing:
            if not self.logged_in:
                self.login()
            rejected = self._auth()
        path = f"/apps/{app_id}/workflow-runs/{run_id}/node-executions"
        try:
            body = self.transport.json("GET", path, safe=True, **rejected)
        except DifyError as exc:
            if exc.status not in CREDENTIAL_STATUSES:
                raise
            with self._renewing:
                if self._auth() == rejected and not self.refresh():  # another thread may have renewed already
                    self.login()
                renewed = self._auth()
            body = self.transport.json("GET", path, safe=True, **renewed)
        items = body.get("data") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise DifyError(f"GET {path}", 200, "malformed_response", "node executions without a `data` array")
        return [NodeExecution.from_json(item) for item in items]

    def close(self) -> None:
        self.transport.close()
