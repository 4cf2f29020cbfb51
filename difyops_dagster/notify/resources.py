"""`NotifierResource`: every configured channel behind one `send`, which never raises.

A channel that fails is returned as a failed `Delivery` (and logged by the caller); the report or sensor that
notifies carries on. Credentials arrive as `dg.EnvVar` in `repr=False` fields; `scrub_env_vars` names every
secret variable of the settings so their values are masked in whatever a delivery reports.
"""

from __future__ import annotations

import os
import time
from typing import Literal

import dagster as dg
from pydantic import Field

from difyops_dagster.notify.dingtalk import send_dingtalk
from difyops_dagster.notify.email import SmtpTarget, send_email
from difyops_dagster.notify.message import Delivery, Notification
from difyops_dagster.notify.scrub import scrub_text
from difyops_dagster.notify.slack import send_slack
from difyops_dagster.notify.webhook import webhook_session
from difyops_dagster.notify.wecom import send_wecom


class EmailChannel(dg.Config):
    host: str = Field(description="SMTP host.")
    port: int = Field(default=587, description="SMTP port.")
    security: Literal["starttls", "ssl", "none"] = Field(default="starttls", description="Transport security.")
    username: str | None = Field(default=None, description="Login name.")
    password: str | None = Field(default=None, repr=False, description="Login password (from an env var).")
    sender: str = Field(description="From address.")
    recipients: list[str] = Field(description="To addresses.")
    ca_file: str | None = Field(default=None, description="CA bundle that verifies the server certificate.")
    timeout_s: float = Field(default=30.0, description="Timeout, seconds.")


class SlackChannel(dg.Config):
    webhook_url: str = Field(repr=False, description="Incoming-webhook URL (from an env var).")


class DingTalkChannel(dg.Config):
    webhook_url: str = Field(repr=False, description="Robot webhook URL with access_token (from an env var).")
    secret: str | None = Field(default=None, repr=False, description="Signing secret (from an env var).")


class WeComChannel(dg.Config):
    webhook_url: str = Field(repr=False, description="Robot webhook URL with key (from an env var).")


class NotifierResource(dg.ConfigurableResource):
    """E-mail, Slack, DingTalk and WeCom; each optional. `send` returns one `Delivery` per configured channel."""

    email: EmailChannel | None = Field(default=None, description="SMTP channel.")
    slack: SlackChannel | None = Field(default=None, description="Slack channel.")
    dingtalk: DingTalkChannel | None = Field(default=None, description="DingTalk channel.")
    wecom: WeComChannel | None = Field(default=None, description="WeCom channel.")
    timeout_s: float = Field(default=10.0, description="Timeout of each webhook call, seconds.")
    scrub_env_vars: list[str] = Field(
        default_factory=list, description="Names of the variables holding secrets; their values are masked."
    )

    def channels(self) -> list[str]:
        return [name for name in ("email", "slack", "dingtalk", "wecom") if getattr(self, name) is not None]

    def secret_values(self) -> list[str]:
        """Every secret this process knows of: the channels' own and those the settings name."""
        values = [os.environ.get(name, "") for name in self.scrub_env_vars]
        if self.email and self.email.password:
            values.append(self.email.password)
        for channel in (self.slack, self.dingtalk, self.wecom):
            if channel is not None:
                values.append(channel.webhook_url)
        if self.dingtalk and self.dingtalk.secret:
            values.append(self.dingtalk.secret)
        return [v for v in values if v]

    def scrub(self, text: str) -> str:
        return scrub_text(text, self.secret_values())

    def send(self, notification: Notification) -> list[Delivery]:
        """Deliver on every channel; never raises. The notification itself is scrubbed before it leaves."""
        secrets = self.secret_values()
        clean = Notification(
            title=scrub_text(notification.title, secrets),
            lines=tuple(scrub_text(line, secrets) for line in notification.lines),
            link=notification.link,
            link_label=notification.link_label,
            level=notification.level,
        )
        deliveries = []
        session = webhook_session()
        with session:
            for name in self.channels():
                try:
                    delivery = self._send_one(name, clean, session)
                except Exception as exc:  # a bug in one channel must not silence the others
                    delivery = Delivery(name, False, f"{type(exc).__name__} in the {name} channel")
                deliveries.append(Delivery(delivery.channel, delivery.ok, scrub_text(delivery.detail, secrets)))
        return deliveries

    def _send_one(self, name: str, notification: Notification, session) -> Delivery:
        now = time.time()
        if name == "email":
            assert self.email is not None
            target = SmtpTarget(
                host=self.email.host,
                port=self.email.port,
                security=self.email.security,
                username=self.email.username,
                sender=self.email.sender,
                recipients=tuple(self.email.recipients),
                ca_file=self.email.ca_file,
                timeout_s=self.email.timeout_s,
            )
            return send_email(notification, target, self.email.password, now)
        if name == "slack":
            assert self.slack is not None
            return send_slack(notification, session, self.slack.webhook_url, self.timeout_s)
        if name == "dingtalk":
            assert self.dingtalk is not None
            return send_dingtalk(
                notification, session, self.dingtalk.webhook_url, self.dingtalk.secret, self.timeout_s, int(now * 1000)
            )
        assert self.wecom is not None
        return send_wecom(notification, session, self.wecom.webhook_url, self.timeout_s)
