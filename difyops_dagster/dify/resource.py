"""`DifyResource`: the Dify client as a Dagster resource, configured from `settings.dify`.

The dataset key arrives as `dg.EnvVar` and the field is `repr=False`: the UI shows the variable's name, and
neither the resource's repr, nor a log line, nor a `DifyError` ever contains the key. App keys are passed to
`app_client()` by the feature that owns them (each app has its own key). Field descriptions are
`DifySettings`' own, so the settings file and the UI describe each value in the same words.

The Dify version is read once per resource from the server's own index (`GET /v1/`, no key needed) and
compared with `dify.version` (compat.py `resolve_version`); a disagreement is logged as a warning naming the
setting, and the server's version is followed.
"""

from __future__ import annotations

import threading
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from difyops_dagster.dify.client import DifyAppClient, DifyDatasetClient
from difyops_dagster.dify.compat import (
    FALLBACK,
    DifyCompat,
    Version,
    format_version,
    resolve_version,
    server_version_from_index,
)
from difyops_dagster.dify.console import DifyConsoleClient
from difyops_dagster.dify.errors import DifyError
from difyops_dagster.dify.transport import DifyTransport, RateLimiter, TransportOptions
from difyops_dagster.settings import DifySettings

_SETTINGS = DifySettings.model_fields
_LIMITER_LOCK = threading.Lock()


def _described(name: str, **kwargs: Any) -> Any:
    return Field(default=_SETTINGS[name].default, description=_SETTINGS[name].description, **kwargs)


class DifyResource(dg.ConfigurableResource):
    """Dify's service API. Every client made by one resource shares one client-side rate limit."""

    base_url: str = Field(description=_SETTINGS["base_url"].description)
    dataset_api_key: str | None = _described("dataset_api_key", repr=False)
    version: str = _described("version")
    connect_timeout_s: float = _described("connect_timeout_s")
    read_timeout_s: float = _described("read_timeout_s")
    max_retries: int = _described("max_retries")
    backoff_factor_s: float = _described("backoff_factor_s")
    backoff_max_s: float = _described("backoff_max_s")
    rate_limit_per_second: float = _described("rate_limit_per_second")
    read_concurrency: int = _described("read_concurrency")

    _limiter: RateLimiter | None = PrivateAttr(default=None)
    _compat: DifyCompat | None = PrivateAttr(default=None)

    def transport_options(self) -> TransportOptions:
        """Timeouts, retries and rate limit as configured, for every Dify client (the console one too)."""
        return TransportOptions(
            connect_timeout_s=self.connect_timeout_s,
            read_timeout_s=self.read_timeout_s,
            max_retries=self.max_retries,
            backoff_factor_s=self.backoff_factor_s,
            backoff_max_s=self.backoff_max_s,
            rate_limit_per_second=self.rate_limit_per_second,
        )

    def shared_limiter(self) -> RateLimiter:
        """The one `rate_limit_per_second` budget of this resource; other Dify clients (the reports' console client)
        take their requests from it too, so that all calls together stay inside the limit."""
        with _LIMITER_LOCK:  # clients may be made from several threads of one step
            if self._limiter is None:
                self._limiter = RateLimiter(self.rate_limit_per_second)
            return self._limiter

    def _transport(self, api_key: str) -> DifyTransport:
        return DifyTransport(self.base_url, api_key, self.transport_options(), self.shared_limiter())

    def compat(self) -> DifyCompat:
        """The version rules to speak, from the server's report and `dify.version`; resolved once."""
        with _LIMITER_LOCK:
            if self._compat is None:
                resolved = resolve_version(self.version, self._reported_version())
                if resolved.warning:
                    dg.get_dagster_logger().warning(resolved.warning)
                elif resolved.source == "default":
                    dg.get_dagster_logger().warning(
                        f"Dify at {self.base_url} did not report its version (GET /v1/) and dify.version is "
                        f"auto: assuming Dify {format_version(FALLBACK)}. Set dify.version to the server's version."
                    )
                self._compat = DifyCompat(resolved.version)
            return self._compat

    def _reported_version(self) -> Version | None:
        """`server_version` from the service API's index, or None when it cannot be read (one try only: a
        server that is down fails the real call right after, with the full retry budget)."""
        options = self.transport_options()
        transport = DifyTransport(
            self.base_url, "", TransportOptions(options.connect_timeout_s, options.read_timeout_s, 0), RateLimiter(0)
        )
        try:
            with transport.request("GET", "/", safe=True, headers={"Authorization": None}) as response:
                return server_version_from_index(response.json())
        except (DifyError, ValueError):
            return None
        finally:
            transport.close()

    def dataset_client(self) -> DifyDatasetClient:
        """The knowledge client; fails when `dify.dataset_api_key` is not configured."""
        if not self.dataset_api_key:
            raise dg.Failure("dify.dataset_api_key is not configured (set it as {env: VAR} in the settings file)")
        return DifyDatasetClient(self._transport(self.dataset_api_key), self.compat(), self.read_concurrency)

    def app_client(self, api_key: str) -> DifyAppClient:
        """A client for the one workflow app that `api_key` (`app-…`) belongs to."""
        return DifyAppClient(self._transport(api_key), self.compat(), self.read_concurrency)

    def console_client(self, url: str, email: str, password: str) -> DifyConsoleClient:
        """A console client with this resource's HTTP settings and version, taking its requests from the same
        rate-limit budget (`dify.rate_limit_per_second` bounds all calls together). Logs in on first use."""
        return DifyConsoleClient(
            url, email, password, compat=self.compat(), options=self.transport_options(), limiter=self.shared_limiter()
        )


class DifyConsoleResource(dg.ConfigurableResource):
    """The `dify.console` login, for the features that change apps through the console (`sync.apps`). The password
    arrives as `dg.EnvVar` in a `repr=False` field: the UI shows the variable's name only."""

    url: str | None = Field(default=None, description="Console root (dify.console.url); empty: no console login.")
    email: str | None = Field(default=None, description="Console account e-mail (dify.console.email).")
    password: str | None = Field(default=None, repr=False, description="Console password (from an env var).")

    @property
    def configured(self) -> bool:
        return bool(self.url and self.email and self.password)

    def client(self, dify: DifyResource) -> DifyConsoleClient:
        if not (self.url and self.email and self.password):
            raise dg.Failure("dify.console is not configured (url, email, password): it is needed to switch apps")
        return dify.console_client(self.url, self.email, self.password)


def build_console_resource(settings: DifySettings) -> DifyConsoleResource:
    console = settings.console
    if console is None:
        return DifyConsoleResource()
    return DifyConsoleResource(url=console.url, email=console.email, password=console.password.as_env_var())


def build_dify_resource(settings: DifySettings) -> DifyResource:
    return DifyResource(
        base_url=settings.base_url,
        dataset_api_key=settings.dataset_api_key.as_env_var() if settings.dataset_api_key else None,
        version=settings.version,
        connect_timeout_s=settings.connect_timeout_s,
        read_timeout_s=settings.read_timeout_s,
        max_retries=settings.max_retries,
        backoff_factor_s=settings.backoff_factor_s,
        backoff_max_s=settings.backoff_max_s,
        rate_limit_per_second=settings.rate_limit_per_second,
        read_concurrency=settings.read_concurrency,
    )
