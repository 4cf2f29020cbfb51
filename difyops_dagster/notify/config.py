"""Settings of the notification channels: e-mail (SMTP), Slack, DingTalk and WeCom, each optional.

Every credential (SMTP password, webhook URLs, which embed their tokens, the DingTalk signing secret) is a
`SecretEnv`: it never sits in the settings file, and the notifier scrubs its value from anything it reports.
This module must not import `settings.py` (which composes it).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from difyops_dagster.config_model import SecretEnv, SettingsModel


class EmailSettings(SettingsModel):
    """SMTP delivery. `starttls` upgrades a plain connection (port 587); `ssl` is implicit TLS (port 465)."""

    host: str = Field(description="SMTP server host name.")
    port: int = Field(default=587, ge=1, le=65535, description="SMTP server port.")
    security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="`starttls` (587), `ssl` (465) or `none` (only for a local relay)."
    )
    username: str | None = Field(default=None, description="Login name; no login when empty.")
    password: SecretEnv | None = Field(default=None, description="Login password, as {env: VAR}.")
    sender: str = Field(description="From address.")
    recipients: list[str] = Field(min_length=1, description="To addresses.")
    ca_file: str | None = Field(
        default=None, description="PEM file of the CA that signed the server's certificate (default: system CAs)."
    )
    timeout_s: float = Field(default=30.0, gt=0, description="Connect and command timeout, seconds.")

    @field_validator("password")
    @classmethod
    def _password_needs_user(cls, value: SecretEnv | None, info) -> SecretEnv | None:
        if value is not None and not info.data.get("username"):
            raise ValueError("notify.email.password is set but notify.email.username is not")
        return value


class SlackSettings(SettingsModel):
    """A Slack incoming webhook (https://hooks.slack.com/services/…)."""

    webhook_url: SecretEnv = Field(description="Incoming-webhook URL, as {env: VAR} (the URL is the credential).")


class DingTalkSettings(SettingsModel):
    """A DingTalk group robot; with a signing secret, each call carries `timestamp` and `sign`."""

    webhook_url: SecretEnv = Field(
        description="Robot URL https://oapi.dingtalk.com/robot/send?access_token=…, as {env: VAR}."
    )
    secret: SecretEnv | None = Field(
        default=None, description="The robot's signing secret (SEC…), as {env: VAR}; needed when signing is on."
    )


class WeComSettings(SettingsModel):
    """A WeCom (企业微信) group robot."""

    webhook_url: SecretEnv = Field(
        description="Robot URL https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…, as {env: VAR}."
    )


class NotifySettings(SettingsModel):
    """Where reports and run failures are announced. A channel without a section is off."""

    email: EmailSettings | None = Field(default=None, description="E-mail over SMTP.")
    slack: SlackSettings | None = Field(default=None, description="Slack incoming webhook.")
    dingtalk: DingTalkSettings | None = Field(default=None, description="DingTalk group robot.")
    wecom: WeComSettings | None = Field(default=None, description="WeCom group robot.")
    run_failures: bool = Field(
        default=True, description="Announce every failed run of the code location on the configured channels."
    )
    webserver_base_url: str | None = Field(
        default=None, description="Dagster UI root, e.g. http://dagster.example.com, for links to failed runs."
    )
    timeout_s: float = Field(default=10.0, gt=0, description="Timeout of each webhook call, seconds.")

    @field_validator("webserver_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"notify.webserver_base_url must be an http(s) URL, got {value!r}")
        return value.rstrip("/") if value else None

    @property
    def channels(self) -> list[str]:
        """Names of the configured channels, in delivery order."""
        return [name for name in ("email", "slack", "dingtalk", "wecom") if getattr(self, name) is not None]
