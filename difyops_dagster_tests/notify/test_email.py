"""E-mail through a real aiosmtpd process that requires STARTTLS and then AUTH LOGIN/PLAIN, with a self-signed
certificate trusted through `ca_file`: the message arrives over TLS from the configured login; a wrong password,
an untrusted certificate or a plain connection fail as a reported `Delivery` that never contains the password."""

from __future__ import annotations

import email
import time
from email import policy

from difyops_dagster.notify.email import SmtpTarget, send_email
from difyops_dagster.notify.message import Notification
from difyops_dagster_tests.notify.conftest import SMTP_PASSWORD, SMTP_USER

NOTICE = Notification(
    title="Workflow report support_bot daily 2026-11-03 (Asia/Shanghai)",
    lines=("Runs: 120 (failed 3, success rate 97.5%)", "Failure x3: 节点 LLM 超时"),
    link="/srv/reports/daily/support_bot/support_bot_daily_2026-11-03.md",
    level="error",
)


def target(smtp, **changes) -> SmtpTarget:
    fields = {
        "host": "127.0.0.1",
        "port": smtp.port,
        "security": "starttls",
        "username": SMTP_USER,
        "sender": SMTP_USER,
        "recipients": ("ops@example.com", "lead@example.com"),
        "ca_file": str(smtp.cert),
        "timeout_s": 10,
    }
    return SmtpTarget(**{**fields, **changes})


def test_report_mail_arrives_over_starttls_from_the_logged_in_account(smtp):
    delivery = send_email(NOTICE, target(smtp), SMTP_PASSWORD, time.time())
    assert delivery.ok, delivery.detail
    (received,) = smtp.messages()
    assert received["tls"] is True
    assert received["login"] == SMTP_USER
    assert received["rcpt_tos"] == ["ops@example.com", "lead@example.com"]
    message = email.message_from_string(received["data"], policy=policy.default)
    assert message["Subject"] == "[FAILED] " + NOTICE.title
    body = message.get_content()
    assert "Runs: 120" in body and "节点 LLM 超时" in body and NOTICE.link in body


def test_wrong_password_is_reported_with_the_server_reply_and_not_the_password(smtp):
    delivery = send_email(NOTICE, target(smtp), "not-the-password-123", time.time())
    assert not delivery.ok
    assert "535" in delivery.detail
    assert "not-the-password-123" not in delivery.detail and SMTP_PASSWORD not in delivery.detail
    assert smtp.messages() == []


def test_a_certificate_not_signed_by_the_configured_ca_is_refused(smtp):
    delivery = send_email(NOTICE, target(smtp, ca_file=None), SMTP_PASSWORD, time.time())
    assert not delivery.ok
    assert delivery.detail.startswith("SSLCertVerificationError")
    assert smtp.messages() == []


def test_a_plain_connection_is_refused_by_a_server_that_requires_starttls(smtp):
    anonymous = send_email(NOTICE, target(smtp, security="none", username=None), None, time.time())
    assert not anonymous.ok
    assert "530" in anonymous.detail
    with_login = send_email(NOTICE, target(smtp, security="none"), SMTP_PASSWORD, time.time())
    assert not with_login.ok
    assert "SMTP AUTH extension not supported" in with_login.detail  # AUTH is only offered after STARTTLS
    assert smtp.messages() == []
