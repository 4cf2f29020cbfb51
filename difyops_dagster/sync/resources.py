"""The sync's own resource: where promotion and rollback are announced."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from difyops_dagster.sync.webhook import Delivery, post_webhook


class SyncWebhookResource(dg.ConfigurableResource):
    """POSTs colour changes to a URL (optional); the token comes from an environment variable."""

    url: str | None = Field(default=None, description="Webhook URL; empty turns notifications off.")
    token: str | None = Field(default=None, repr=False, description="Bearer token (from an environment variable).")

    def notify(self, payload: dict) -> Delivery | None:
        """None when no webhook is configured."""
        if not self.url:
            return None
        return post_webhook(self.url, self.token, payload)
