"""`ReportSourcesResource`: the apps' keys and the optional console login the reports read Dify with.

App keys and the console password arrive as `dg.EnvVar` in `repr=False` fields, so the UI shows variable
names only. The HTTP settings (timeouts, retries, rate limit, version) are the shared `dify` resource's, and the
console's requests take from the same rate-limit budget as the app keys' (`dify.rate_limit_per_second` bounds
them all together).
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from difyops_dagster.dify.resource import DifyResource
from difyops_dagster.reports.fetch import ConsoleAccess, LogFilter


class ReportApp(dg.Config):
    name: str = Field(description="Short name used in file names.")
    api_key: str = Field(repr=False, description="App API key (from an env var).")
    app_id: str | None = Field(default=None, description="App id, for the console's node executions.")
    keyword: str | None = Field(default=None, description="Keyword filter.")
    status: str | None = Field(default=None, description="Status filter.")

    def log_filter(self) -> LogFilter:
        return LogFilter(keyword=self.keyword, status=self.status)


class ReportSourcesResource(dg.ConfigurableResource):
    """Which Dify apps the reports read, and how to log in to the console for node executions (cost)."""

    apps: list[ReportApp] = Field(description="Reported apps.")
    console_url: str | None = Field(default=None, description="Console root (dify.console.url).")
    console_email: str | None = Field(default=None, description="Console account e-mail.")
    console_password: str | None = Field(default=None, repr=False, description="Console password (from an env var).")

    def console(self, dify: DifyResource) -> ConsoleAccess:
        """A console client, or why there is none; logging in is left to the first use."""
        if not (self.console_url and self.console_email and self.console_password):
            return ConsoleAccess(
                None, "console credentials are not configured (set dify.console: url, email, password)"
            )
        return ConsoleAccess(dify.console_client(self.console_url, self.console_email, self.console_password))
