"""Wiring of the notification channels: the `notifier` resource and the run-failure sensor.

Empty Definitions when no channel is configured. The reports feature asks for `notifier` only in that case.
"""

from __future__ import annotations

import dagster as dg

from difyops_dagster.config_model import iter_secrets
from difyops_dagster.notify.config import NotifySettings
from difyops_dagster.notify.resources import (
    DingTalkChannel,
    EmailChannel,
    NotifierResource,
    SlackChannel,
    WeComChannel,
)
from difyops_dagster.notify.sensors import build_run_failure_sensor
from difyops_dagster.settings import Settings


def build_notifier(notify: NotifySettings, scrub_env_vars: list[str]) -> NotifierResource:
    email = notify.email
    return NotifierResource(
        email=EmailChannel(
            host=email.host,
            port=email.port,
            security=email.security,
            username=email.username,
            password=email.password.as_env_var() if email.password else None,
            sender=email.sender,
            recipients=list(email.recipients),
            ca_file=email.ca_file,
            timeout_s=email.timeout_s,
        )
        if email
        else None,
        slack=SlackChannel(webhook_url=notify.slack.webhook_url.as_env_var()) if notify.slack else None,
        dingtalk=DingTalkChannel(
            webhook_url=notify.dingtalk.webhook_url.as_env_var(),
            secret=notify.dingtalk.secret.as_env_var() if notify.dingtalk.secret else None,
        )
        if notify.dingtalk
        else None,
        wecom=WeComChannel(webhook_url=notify.wecom.webhook_url.as_env_var()) if notify.wecom else None,
        timeout_s=notify.timeout_s,
        scrub_env_vars=scrub_env_vars,
    )


def build_defs(settings: Settings) -> dg.Definitions:
    notify = settings.notify
    if not notify.channels:
        return dg.Definitions()
    secret_vars = sorted({ref.env for _, ref in iter_secrets(settings)})
    sensors = [build_run_failure_sensor(notify.webserver_base_url)] if notify.run_failures else []
    return dg.Definitions(resources={"notifier": build_notifier(notify, secret_vars)}, sensors=sensors)
