"""The `notifier` resource built from settings sends on every configured channel to real receivers; a channel
that fails is reported as a failed `Delivery` and the others still deliver; no secret (webhook URLs, DingTalk
secret, SMTP password, any other secret the settings name) survives in a message, a detail or the repr."""

from __future__ import annotations

from difyops_dagster.notify.defs import build_defs, build_notifier
from difyops_dagster.notify.message import Notification
from difyops_dagster_tests.notify.conftest import APP_KEY, DINGTALK_SECRET, SMTP_PASSWORD, SMTP_USER, settings_with


def notify_section(webhooks, smtp, *, dingtalk_secret_env: str = "DINGTALK_SECRET") -> dict:
    return {
        "email": {
            "host": "127.0.0.1",
            "port": smtp.port,
            "username": SMTP_USER,
            "password": {"env": "SMTP_PASSWORD"},
            "sender": SMTP_USER,
            "recipients": ["ops@example.com"],
            "ca_file": str(smtp.cert),
        },
        "slack": {"webhook_url": {"env": "SLACK_WEBHOOK_URL"}},
        "dingtalk": {"webhook_url": {"env": "DINGTALK_WEBHOOK_URL"}, "secret": {"env": dingtalk_secret_env}},
        "wecom": {"webhook_url": {"env": "WECOM_WEBHOOK_URL"}},
        "webserver_base_url": "http://dagster.local:3000",
    }


def initialized(resource):
    return resource.process_config_and_initialize()


def test_every_configured_channel_delivers_the_same_notice(channel_env, webhooks, smtp):
    settings = settings_with(notify_section(webhooks, smtp), channel_env)
    notifier = initialized(build_defs(settings).resources["notifier"])
    deliveries = notifier.send(Notification("Daily report bot", ("Runs: 5",), link="http://r.example/bot.md"))
    assert [(d.channel, d.ok) for d in deliveries] == [
        ("email", True),
        ("slack", True),
        ("dingtalk", True),
        ("wecom", True),
    ], deliveries
    assert len(smtp.messages()) == 1
    assert {m["service"] for m in webhooks.received()} == {"slack", "dingtalk", "wecom"}


def test_a_failing_channel_is_reported_and_the_others_still_deliver(channel_env, webhooks, smtp):
    notify = notify_section(webhooks, smtp, dingtalk_secret_env="WRONG_DINGTALK_SECRET")
    notifier = initialized(build_defs(settings_with(notify, channel_env)).resources["notifier"])
    deliveries = {d.channel: d for d in notifier.send(Notification("Daily report bot", ("Runs: 5",)))}
    assert not deliveries["dingtalk"].ok and "310000" in deliveries["dingtalk"].detail
    assert all(deliveries[c].ok for c in ("email", "slack", "wecom"))


def test_secrets_are_masked_in_what_is_sent_and_what_is_reported(channel_env, webhooks, smtp):
    notifier = initialized(build_defs(settings_with(notify_section(webhooks, smtp), channel_env)).resources["notifier"])
    leaky = Notification(
        "Run failed",
        (f"request with key {APP_KEY} and password {SMTP_PASSWORD} to {webhooks.wecom_url}",),
    )
    deliveries = notifier.send(leaky)
    assert all(d.ok for d in deliveries)
    sent = repr(webhooks.received()) + repr(smtp.messages())
    for secret in (APP_KEY, SMTP_PASSWORD, webhooks.wecom_url, "wecom-key-local-789", DINGTALK_SECRET):
        assert secret not in sent
        assert secret not in repr(deliveries)
    assert "***" in webhooks.received("slack")[0]["body"]["text"]


def test_the_resource_repr_shows_no_secret(channel_env, webhooks, smtp):
    resource = build_notifier(settings_with(notify_section(webhooks, smtp), channel_env).notify, ["REPORT_APP_KEY"])
    shown = repr(resource) + repr(initialized(resource))
    for secret in (SMTP_PASSWORD, webhooks.slack_url, DINGTALK_SECRET, APP_KEY):
        assert secret not in shown


def test_no_channel_means_no_notifier_and_no_sensor(channel_env):
    defs = build_defs(settings_with({}, channel_env))
    assert not defs.resources and not defs.sensors
