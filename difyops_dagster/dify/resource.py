"""`DifyResource`: the Dify client as a Dagster resource, configured from `settings.dify`.

The dataset key arrives as `dg.EnvVar` and the field is `repr=False`: the UI shows the variable's name, and
neither the resource's repr, nor a log line, nor a `DifyError` ever contains the key. App keys are passed to
`app_client()` by the feature that owns them (each app has its own key).
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field, PrivateAttr

from difyops_dagster.dify.client import DifyAppClient, DifyDatasetClient
from difyops_dagster.dify.compat import DifyCompat
from difyops_dagster.dify.transport import DifyTransport, RateLimiter, TransportOptions
from difyops_dagster.settings import DifySettings


class DifyResource(dg.ConfigurableResource):
    """Dify's service API. Requests share one client-side rate limit per process."""

    base_url: str = Field(description="Service API root, ending in /v1.")
    dataset_api_key: str | None = Field(default=None, repr=False, description="Knowledge API key (from an env var).")
    version: str = Field(default="1.13", description="Dify version (major.minor).")
    connect_timeout_s: float = Field(default=5.0, description="Connect timeout, seconds.")
    read_timeout_s: float = Field(default=60.0, description="Read timeout, seconds.")
    max_retries: int = Field(default=5, description="Retries of retry-safe requests.")
    backoff_factor_s: float = Field(default=0.5, description="Exponential backoff base, seconds.")
    backoff_max_s: float = Field(default=30.0, description="Longest backoff, seconds.")
    rate_limit_per_second: float = Field(default=20.0, description="Client-side rate limit (0 = off).")

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

    def _shared_limiter(self) -> RateLimiter:
        if self._limiter is None:
            self._limiter = RateLimiter(self.rate_limit_per_second)
        return self._limiter

    def _transport(self, api_key: str) -> DifyTransport:
        return DifyTransport(self.base_url, api_key, self._options(), self._shared_limiter())

    def dataset_client(self) -> DifyDatasetClient:
        if not self.dataset_api_key:
            raise dg.Failure("dify.dataset_api_key is not configured (set it as {env: VAR} in the settings file)")
        return DifyDatasetClient(self._transport(self.dataset_api_key), DifyCompat.parse(self.version))

    def app_client(self, api_key: str) -> DifyAppClient:
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
