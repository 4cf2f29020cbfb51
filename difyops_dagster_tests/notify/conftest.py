"""Real local receivers for the notification channels: one HTTP process for Slack/DingTalk/WeCom and one
aiosmtpd process requiring STARTTLS and login, with a self-signed certificate made for 127.0.0.1."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dify_standin.processes import ServerProcess, free_port
from difyops_dagster.settings import Settings, parse_settings

SLACK_PATH = "T0LOCAL/B0LOCAL/slackWebhookSecret123"
DINGTALK_TOKEN = "dingtalk-access-token-local-123"
DINGTALK_SECRET = "SECdingtalk-signing-secret-local-456"
WECOM_KEY = "wecom-key-local-789"
SMTP_USER = "reports@example.com"
SMTP_PASSWORD = "smtp-password-local-0!"
APP_KEY = "app-reportsAppKey0123456789"


@dataclass
class WebhookReceivers:
    url: str

    @property
    def slack_url(self) -> str:
        return f"{self.url}/services/{SLACK_PATH}"

    @property
    def dingtalk_url(self) -> str:
        return f"{self.url}/robot/send?access_token={DINGTALK_TOKEN}"

    @property
    def wecom_url(self) -> str:
        return f"{self.url}/cgi-bin/webhook/send?key={WECOM_KEY}"

    def received(self, service: str | None = None) -> list[dict]:
        items = requests.get(f"{self.url}/_received", timeout=5).json()["received"]
        return [i for i in items if service is None or i["service"] == service]

    def clear(self) -> None:
        requests.delete(f"{self.url}/_received", timeout=5)


@pytest.fixture(scope="session")
def webhook_server() -> Iterator[WebhookReceivers]:
    port = free_port()
    argv = [
        sys.executable, "-m", "difyops_dagster_tests.notify.receivers", "--port", str(port),
        "--slack-path", SLACK_PATH, "--dingtalk-token", DINGTALK_TOKEN, "--dingtalk-secret", DINGTALK_SECRET,
        "--wecom-key", WECOM_KEY,
    ]  # fmt: skip
    with ServerProcess("webhook-receivers", argv, f"http://127.0.0.1:{port}/_health"):
        yield WebhookReceivers(f"http://127.0.0.1:{port}")


@pytest.fixture
def webhooks(webhook_server: WebhookReceivers) -> WebhookReceivers:
    webhook_server.clear()
    return webhook_server


def make_self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, signed by its own key: the test's private 'CA'."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass
class SmtpReceiver:
    port: int
    cert: Path
    out: Path

    def messages(self) -> list[dict]:
        return [json.loads(p.read_text()) for p in sorted(self.out.glob("*.json"), key=os.path.getmtime)]

    def clear(self) -> None:
        for path in self.out.glob("*.json"):
            path.unlink()


@pytest.fixture(scope="session")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpReceiver]:
    folder = tmp_path_factory.mktemp("smtp")
    cert, key = make_self_signed(folder)
    out = folder / "received"
    out.mkdir()
    port = free_port()
    argv = [
        sys.executable, "-m", "difyops_dagster_tests.notify.smtp_receiver", "--port", str(port),
        "--cert", str(cert), "--key", str(key), "--user", SMTP_USER, "--password", SMTP_PASSWORD, "--out", str(out),
    ]  # fmt: skip
    log = open(folder / "smtp.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"220"):
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("aiosmtpd did not start: " + (folder / "smtp.log").read_text())
        yield SmtpReceiver(port, cert, out)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
        log.close()


@pytest.fixture
def smtp(smtp_server: SmtpReceiver) -> SmtpReceiver:
    smtp_server.clear()
    return smtp_server


@pytest.fixture
def channel_env(monkeypatch, webhooks, smtp) -> dict[str, str]:
    env = {
        "SMTP_PASSWORD": SMTP_PASSWORD,
        "SLACK_WEBHOOK_URL": webhooks.slack_url,
        "DINGTALK_WEBHOOK_URL": webhooks.dingtalk_url,
        "DINGTALK_SECRET": DINGTALK_SECRET,
        "WRONG_DINGTALK_SECRET": "SECnot-the-right-one-999",
        "WECOM_WEBHOOK_URL": webhooks.wecom_url,
        "REPORT_APP_KEY": APP_KEY,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def settings_with(notify: dict, environ: dict) -> Settings:
    """Minimal settings with a reports section (whose app key is one more secret to mask) and `notify`."""
    data = {
        "dify": {"base_url": "http://127.0.0.1:9/v1"},
        "reports": {"apps": [{"name": "bot", "api_key": {"env": "REPORT_APP_KEY"}}], "start_date": "2026-10-01"},
        "notify": notify,
    }
    return parse_settings(data, environ)
