"""The sync's own resources: where promotion and rollback are announced, and the queue the bucket's change
events arrive on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import dagster as dg
from pydantic import Field, PrivateAttr

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


@dataclass(frozen=True, slots=True)
class QueueMessage:
    receipt: str
    body: str
    sent_at: float  # Unix seconds (SQS `SentTimestamp`)


class BucketNotificationsResource(dg.ConfigurableResource):
    """The SQS queue the bucket publishes its S3 event notifications to (optional: without it the sensor lists
    the bucket). No dagster-aws resource covers SQS; boto3's client is used as dagster-aws would."""

    queue_url: str | None = Field(default=None, description="SQS queue URL; empty: no notifications.")
    endpoint_url: str | None = Field(default=None, description="SQS endpoint for S3-compatible setups (moto).")
    region_name: str = Field(default="us-east-1", description="Region of the queue.")
    aws_access_key_id: str | None = Field(default=None, repr=False, description="From an environment variable.")
    aws_secret_access_key: str | None = Field(default=None, repr=False, description="From an environment variable.")

    _client: Any = PrivateAttr(default=None)

    def _sqs(self) -> Any:
        if self._client is None:
            self._client = boto3.client(
                "sqs",
                endpoint_url=self.endpoint_url,
                region_name=self.region_name,
                aws_access_key_id=self.aws_access_key_id,
                aws_secret_access_key=self.aws_secret_access_key,
            )
        return self._client

    def receive(self, max_messages: int) -> list[QueueMessage]:
        """Up to `max_messages` waiting messages (short polls of 10, stopping at the first empty one)."""
        messages: list[QueueMessage] = []
        while len(messages) < max_messages:
            batch = min(10, max_messages - len(messages))
            answer = self._sqs().receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=batch, WaitTimeSeconds=0, AttributeNames=["SentTimestamp"]
            )
            received = answer.get("Messages") or []
            messages += [
                QueueMessage(m["ReceiptHandle"], m.get("Body") or "", int(m["Attributes"]["SentTimestamp"]) / 1000)
                for m in received
            ]
            if not received:
                break
        return messages

    def delete(self, messages: list[QueueMessage]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": m.receipt} for i, m in enumerate(chunk)]
            self._sqs().delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
