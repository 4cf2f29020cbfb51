"""Every channel against a real local receiver that checks what the service checks: a message that the
service would refuse (bad signature, unknown key, unreachable host) comes back as a failed `Delivery` whose
detail names the problem and never the webhook URL, token or secret."""

from __future__ import annotations

import time

import pytest

from difyops_dagster.notify.dingtalk import send_dingtalk
from difyops_dagster.notify.message import Notification
from difyops_dagster.notify.slack import send_slack
from difyops_dagster.notify.webhook import webhook_session
from difyops_dagster.notify.wecom import send_wecom
from difyops_dagster_tests.notify.conftest import DINGTALK_SECRET, DINGTALK_TOKEN, SLACK_PATH, WECOM_KEY

NOTICE = Notification(
    title="Workflow report support_bot daily 2026-11-03 (Asia/Shanghai)",
    lines=("Runs: 120 (failed 3, success rate 97.5%)", "Latency p50/p95/max: 1.2s / 4.8s / 9s"),
    link="s3://reports/daily/support_bot/support_bot_daily_2026-11-03.md",
)


def now_ms() -> int:
    return int(time.time() * 1000)


def test_slack_receives_the_summary_and_the_link(webhooks):
    with webhook_session() as session:
        delivery = send_slack(NOTICE, session, webhooks.slack_url, 5)
    assert delivery.ok, delivery.detail
    (message,) = webhooks.received("slack")
    assert "Runs: 120" in message["body"]["blocks"][1]["text"]["text"]
    assert NOTICE.link in message["body"]["blocks"][2]["elements"][0]["text"]


def test_slack_unknown_webhook_is_reported_without_the_url(webhooks):
    with webhook_session() as session:
        delivery = send_slack(NOTICE, session, f"{webhooks.url}/services/T/B/wrong", 5)
    assert not delivery.ok
    assert "404" in delivery.detail and "no_service" in delivery.detail
    assert "wrong" not in delivery.detail


def test_dingtalk_signed_message_is_accepted(webhooks):
    with webhook_session() as session:
        delivery = send_dingtalk(NOTICE, session, webhooks.dingtalk_url, DINGTALK_SECRET, 5, now_ms())
    assert delivery.ok, delivery.detail
    (message,) = webhooks.received("dingtalk")
    assert message["body"]["markdown"]["title"] == NOTICE.title
    assert set(message["query"]) == {"timestamp", "sign"}


@pytest.mark.parametrize(
    ("secret", "timestamp_offset_ms", "errcode"),
    [("SECwrong-secret-000", 0, "310000"), (DINGTALK_SECRET, -2 * 3600_000, "310000"), (None, 0, "310000")],
    ids=["wrong-secret", "stale-timestamp", "unsigned"],
)
def test_dingtalk_refusals_are_reported_with_their_errcode(webhooks, secret, timestamp_offset_ms, errcode):
    with webhook_session() as session:
        delivery = send_dingtalk(NOTICE, session, webhooks.dingtalk_url, secret, 5, now_ms() + timestamp_offset_ms)
    assert not delivery.ok
    assert f"errcode {errcode}" in delivery.detail
    assert DINGTALK_TOKEN not in delivery.detail and "SECwrong" not in delivery.detail
    assert webhooks.received("dingtalk") == []


def test_wecom_receives_long_chinese_reports_cut_to_its_limit(webhooks):
    long = Notification(title="日报 support_bot", lines=tuple("失败：节点 LLM 超时" * 30 for _ in range(30)))
    with webhook_session() as session:
        delivery = send_wecom(long, session, webhooks.wecom_url, 5)
    assert delivery.ok, delivery.detail
    (message,) = webhooks.received("wecom")
    assert len(message["body"]["markdown"]["content"].encode()) <= 4096


def test_wecom_unknown_key_is_reported_without_the_key(webhooks):
    with webhook_session() as session:
        delivery = send_wecom(NOTICE, session, webhooks.wecom_url.replace(WECOM_KEY, "other-key-42"), 5)
    assert not delivery.ok
    assert "errcode 93000" in delivery.detail and "other-key-42" not in delivery.detail


def test_unreachable_webhook_is_reported_by_host_and_error_type_only(webhooks):
    from dify_standin.processes import free_port

    url = f"http://127.0.0.1:{free_port()}/services/{SLACK_PATH}"
    with webhook_session() as session:
        delivery = send_slack(NOTICE, session, url, 2)
    assert not delivery.ok
    assert delivery.detail == "ConnectionError while posting to 127.0.0.1"
