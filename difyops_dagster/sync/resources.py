"""The sync's own resource: where promotion and rollback are announced."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from difyops_dagster.sync.webhook import notify_colour_change


class SyncWebhookResource(dg.ConfigurableResource):
    """POSTs colour changes to a URL (optional); the token comes from an environment variable."""

    url: str | None = Field(default=None, description="Webhook URL; empty turns notifications off.")
    token: str | None = Field(default=None, repr=False, description="Bearer token (from an env var).")

    def notify(self, payload: dict) -> str:
        if not self.url:
            return "webhook not configured"
        return notify_colour_change(self.url, self.token, payload)
