"""E-mail over SMTP with `smtplib`: STARTTLS (or implicit TLS) and login, certificate verified.

The server certificate is always verified, against the system CAs or the `ca_file` the settings name (a
private CA, or a test's self-signed certificate); there is no switch to turn verification off. A failure is
described by the SMTP reply code and text or the exception class — smtplib never echoes the password.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from difyops_dagster.notify.message import Delivery, Notification


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    security: str  # starttls | ssl | none
    username: str | None
    sender: str
    recipients: tuple[str, ...]
    ca_file: str | None
    timeout_s: float


def email_message(notification: Notification, sender: str, recipients: tuple[str, ...], now: float) -> EmailMessage:
    message = EmailMessage()
    prefix = "[FAILED] " if notification.level == "error" else ""
    message["Subject"] = prefix + notification.title
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(now, localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(notification.plain())
    return message


def send_email(notification: Notification, target: SmtpTarget, password: str | None, now: float) -> Delivery:
    where = f"{target.host}:{target.port}"
    context = ssl.create_default_context(cafile=target.ca_file)
    message = email_message(notification, target.sender, target.recipients, now)
    try:
        if target.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(target.host, target.port, timeout=target.timeout_s, context=context)
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=target.timeout_s)
        with client:
            client.ehlo()
            if target.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if target.username:
                client.login(target.username, password or "")
            refused = client.send_message(message)
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return Delivery("email", False, f"{where} answered {exc.smtp_code}: {text[:200]}")
    except smtplib.SMTPException as exc:  # smtplib's own messages ("SMTP AUTH extension not supported ...")
        return Delivery("email", False, f"{type(exc).__name__} talking to {where}: {str(exc)[:200]}")
    except OSError as exc:
        return Delivery("email", False, f"{type(exc).__name__} talking to {where}")
    if refused:
        return Delivery("email", False, f"{where} refused {len(refused)} recipient(s): {', '.join(sorted(refused))}")
    return Delivery("email", True, f"sent to {len(target.recipients)} recipient(s) via {where}")
