"""`DifyResource`: the Dify client as a Dagster resource, configured from `settings.dify`.

The dataset key arrives as `dg.EnvVar` and the field is `repr=False`: the UI shows the variable's name, and
neither the resource's repr, nor a log line, nor a `DifyError` ever contains the key. App keys are passed to
`app_client()` by the feature that owns them (each app has its own key). Field descriptions are
`DifySettings`' own, so the settings file and the UI describe each value in the same words.
"""

from __future__ import annotations

import threading
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from difyops_dagster.dify.client import DifyAppClient, DifyDatasetClient
from difyops_dagster.dify.compat import DifyCompat
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

    _limiter: RateLimiter | None = PrivateAttr(default=None)

    def _options(self) -> TransportOptions:
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
        return DifyTransport(self.base_url, api_key, self._options(), self.shared_limiter())

    def dataset_client(self) -> DifyDatasetClient:
        """The knowledge client; fails when `dify.dataset_api_key` is not configured."""
        if not self.dataset_api_key:
            raise dg.Failure("dify.dataset_api_key is not configured (set it as {env: VAR} in the settings file)")
        return DifyDatasetClient(self._transport(self.dataset_api_key), DifyCompat.parse(self.version))

    def app_client(self, api_key: str) -> DifyAppClient:
        """A client for the one workflow app that `api_key` (`app-…`) belongs to."""
        return DifyAppClient(self._transport(api_key), DifyCompat.parse(self.version))


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
    )
