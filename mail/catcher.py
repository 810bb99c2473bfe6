"""A mail catcher for trying Notes locally: an SMTP server that delivers nowhere,
and a read-only web page listing what it caught (the newest first).

    SMTP   on MAIL_CATCHER_SMTP_PORT (1025)  <- the web container sends here (MAIL_SERVER=mail)
    HTTP   on MAIL_CATCHER_HTTP_PORT (8025)  -> http://127.0.0.1:8025/ on the host
           and /messages.json, the same list for programs (the browser tier's stack mode)

Never for production: anybody who can reach the page reads every message,
reset links included. docker-compose.yml publishes the page on the host's
127.0.0.1 only, under the `mail` profile.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import os
import signal
import sys
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

MAX_MESSAGES = 200


@dataclass(frozen=True)
class Caught:
    received: datetime
    sender: str
    recipients: tuple[str, ...]
    subject: str
    body: str


class Inbox:
    """The last MAX_MESSAGES messages, newest first; safe to share between threads."""

    def __init__(self, limit: int = MAX_MESSAGES) -> None:
        self._messages: deque[Caught] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def add(self, raw: bytes, sender: str, recipients: list[str]) -> Caught:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        part = parsed.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
        body = str(part.get_content()) if part is not None else ""
        caught = Caught(datetime.now(UTC), sender, tuple(recipients), str(parsed.get("Subject", "")), body)
        with self._lock:
            self._messages.appendleft(caught)
        return caught

    def messages(self) -> list[Caught]:
        with self._lock:
            return list(self._messages)


class SmtpHandler:
    """aiosmtpd's handler: every message is accepted and kept in the inbox."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.inbox.add(envelope.original_content or envelope.content, envelope.mail_from, envelope.rcpt_tos)
        return "250 Message accepted for delivery"


def render(messages: list[Caught]) -> str:
    """The page: every message escaped, nothing a message holds can run."""
    items = []
    for m in messages:
        items.append(
            "<article><h2>{subject}</h2><p>{when} · from {sender} · to {to}</p><pre>{body}</pre></article>".format(
                subject=html.escape(m.subject or "(no subject)"),
                when=m.received.strftime("%Y-%m-%d %H:%M:%S UTC"),
                sender=html.escape(m.sender),
                to=html.escape(", ".join(m.recipients)),
                body=html.escape(m.body),
            )
        )
    listing = "\n".join(items) or "<p>No mail yet.</p>"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Caught mail</title>'
        '<meta http-equiv="refresh" content="5"></head><body><main>'
        f"<h1>Caught mail ({len(messages)})</h1>{listing}</main></body></html>"
    )


def as_json(messages: list[Caught]) -> str:
    """The same list for programs, newest first: what tests read instead of scraping the page."""
    return json.dumps(
        [
            {
                "received": m.received.isoformat(),
                "sender": m.sender,
                "recipients": list(m.recipients),
                "subject": m.subject,
                "body": m.body,
            }
            for m in messages
        ]
    )


def make_handler(inbox: Inbox) -> type[BaseHTTPRequestHandler]:
    class Page(BaseHTTPRequestHandler):
        server_version = "mail-catcher"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/":
                self._send(HTTPStatus.OK, render(inbox.messages()))
            elif path == "/messages.json":
                self._send(HTTPStatus.OK, as_json(inbox.messages()), content_type="application/json")
            else:
                self._send(HTTPStatus.NOT_FOUND, "<p>Not found.</p>")

        def do_HEAD(self) -> None:
            self.do_GET()

        def _refuse(self) -> None:
            self._send(HTTPStatus.METHOD_NOT_ALLOWED, "<p>This page is read-only.</p>", allow="GET, HEAD")

        do_POST = do_PUT = do_DELETE = do_PATCH = _refuse

        def _send(
            self,
            status: HTTPStatus,
            page: str,
            allow: str | None = None,
            content_type: str = "text/html; charset=utf-8",
        ) -> None:
            body = page.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", "default-src 'none'")
            self.send_header("X-Content-Type-Options", "nosniff")
            if allow:
                self.send_header("Allow", allow)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write("http: " + (format % args) + "\n")

    return Page


def main() -> None:
    host = os.environ.get("MAIL_CATCHER_HOST", "0.0.0.0")  # noqa: S104 - inside its container
    inbox = Inbox()
    smtp = Controller(SmtpHandler(inbox), hostname=host, port=int(os.environ.get("MAIL_CATCHER_SMTP_PORT", "1025")))
    smtp.start()
    web = ThreadingHTTPServer((host, int(os.environ.get("MAIL_CATCHER_HTTP_PORT", "8025"))), make_handler(inbox))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=web.shutdown).start())
    print(f"mail catcher: SMTP on {host}:{smtp.port}, page on {host}:{web.server_port}", flush=True)
    try:
        web.serve_forever()
    finally:
        web.server_close()
        smtp.stop()


if __name__ == "__main__":
    main()
