"""Each service's message shape, pure: Slack's block limits, DingTalk's URL-encoded HMAC signature, WeCom's
4,096-byte cap (counted in UTF-8 bytes, so Chinese text is cut sooner), and the secret scrubber."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qs, urlsplit

from difyops_dagster.notify.dingtalk import dingtalk_payload, dingtalk_sign, dingtalk_signed_url
from difyops_dagster.notify.message import Notification, clip_utf8
from difyops_dagster.notify.scrub import scrub_text
from difyops_dagster.notify.slack import slack_payload
from difyops_dagster.notify.wecom import wecom_payload

NOTICE = Notification(
    title="Workflow report support_bot daily 2026-11-03 (Asia/Shanghai)",
    lines=("Runs: 120 (failed 3, success rate 97.5%)", "Failure x3: Node LLM run failed"),
    link="https://reports.example.com/reports/daily/support_bot/support_bot_daily_2026-11-03.md",
)


def test_dingtalk_signature_is_base64_hmac_of_timestamp_and_secret_url_encoded():
    secret, timestamp = "SECabc+/=", 1767225600000
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=T", secret, timestamp)
    query = parse_qs(urlsplit(url).query)
    assert query["access_token"] == ["T"]
    assert query["timestamp"] == [str(timestamp)]
    assert query["sign"] == [expected]  # parse_qs decodes: the raw URL must carry %2B, %2F, %3D, never '+'
    assert "+" not in dingtalk_sign(secret, timestamp)


def test_dingtalk_and_wecom_send_markdown_with_title_summary_and_link():
    ding = dingtalk_payload(NOTICE)
    assert ding["msgtype"] == "markdown"
    assert ding["markdown"]["title"] == NOTICE.title
    assert "- Runs: 120" in ding["markdown"]["text"]
    assert f"]({NOTICE.link})" in ding["markdown"]["text"]
    wecom = wecom_payload(NOTICE)
    assert wecom == {"msgtype": "markdown", "markdown": {"content": NOTICE.markdown()}}


def test_wecom_content_is_cut_to_4096_utf8_bytes_without_breaking_a_character():
    long = Notification(title="报告", lines=tuple("失败原因：节点超时" * 20 for _ in range(40)))
    content = wecom_payload(long)["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert content.endswith("…")
    content.encode().decode()  # still valid UTF-8
    assert clip_utf8("ab", 10) == "ab"


def test_slack_payload_has_fallback_text_header_and_limited_section():
    many = Notification(title="t" * 300, lines=tuple("x" * 100 for _ in range(60)), link="/var/reports/a.md")
    payload = slack_payload(many)
    header, section, context = payload["blocks"]
    assert header["type"] == "header" and len(header["text"]["text"]) == 150
    assert section["type"] == "section" and len(section["text"]["text"]) <= 3000
    assert context["elements"][0]["text"] == "`/var/reports/a.md`"  # a path is shown, not linked
    assert slack_payload(NOTICE)["blocks"][2]["elements"][0]["text"] == f"<{NOTICE.link}|Open the report>"
    assert payload["text"].startswith("t" * 10)


def test_scrubber_masks_configured_values_and_credential_shapes():
    text = (
        "POST https://oapi.dingtalk.com/robot/send?access_token=abc123&sign=zzz failed; "
        "Authorization: Bearer eyJhbGciOi.payload.sig; key app-AbCdEf0123456789xyz; "
        "smtp password is hunter2-long; https://user:pw@host/x; hooks.slack.com/services/T/B/C"
    )
    clean = scrub_text(text, ["hunter2-long", ""])
    for secret in ("abc123", "zzz", "eyJhbGciOi", "AbCdEf0123456789xyz", "hunter2-long", "user:pw", "T/B/C"):
        assert secret not in clean
    assert "access_token=***" in clean and "Bearer ***" in clean and "app-***" in clean
