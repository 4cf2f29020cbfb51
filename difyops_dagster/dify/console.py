"""Dify's console API, only for what the Service API lacks: the node executions of a run (hence its cost).

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

from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.errors import DifyError
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


def _refused_for_encoding(exc: DifyError, encoded: bool) -> bool:
    """Did the login fail in the way only the other password encoding explains?"""
    if exc.status not in (400, 401):
        return False
    if not encoded:
        return _PLAIN_REFUSED in exc.message
    return exc.message in _WRONG_PASSWORD or exc.code in _WRONG_PASSWORD
