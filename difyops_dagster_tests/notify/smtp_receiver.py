"""A real SMTP server process for the e-mail channel's tests: aiosmtpd with STARTTLS required and AUTH login.

aiosmtpd supports both: `tls_context` + `require_starttls=True` refuses every command but EHLO/STARTTLS/QUIT
on a plain connection (530), and `authenticator` + `auth_require_tls=True` offers AUTH only after STARTTLS.
Each accepted message is written to `--out` as one JSON file (envelope, authenticated login, raw message).

    python -m difyops_dagster_tests.notify.smtp_receiver --port N --cert C --key K --user U --password P --out DIR
"""

from __future__ import annotations

import argparse
import json
import signal
import ssl
import threading
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, out: Path):
        self.out = out

    async def handle_DATA(self, server, session, envelope) -> str:
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": login,
            "tls": session.ssl is not None,
            "data": envelope.content.decode("utf-8", errors="replace"),
        }
        (self.out / f"{uuid.uuid4().hex}.json").write_text(json.dumps(record))
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--port", "--cert", "--key", "--user", "--password", "--out"):
        parser.add_argument(name, required=True)
    args = parser.parse_args()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)

    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == args.user
            and auth_data.password.decode() == args.password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    controller = Controller(
        Handler(Path(args.out)),
        hostname="127.0.0.1",
        port=int(args.port),
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
