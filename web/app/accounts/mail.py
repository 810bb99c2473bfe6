"""Mail from the app: password reset links, over SMTP (Flask-Mailman).

Nothing is sent without MAIL_SERVER. The settings are read from the app's
configuration at each send, so one app object serves whatever server it is
pointed at.

A message leaves in a thread of its own, after the request that asked for it
has been answered: the request never waits for an SMTP server, so an answer
takes as long whether a message was sent or not (``deliver`` is called with
None for "nothing to send", and starts the same thread). A send that fails is
logged without the message, which holds a secret link.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from flask import Flask, current_app
from flask_mailman import EmailMessage

from ..extensions import mail

log = logging.getLogger("notes.mail")

NOT_SET_UP = "Password reset by email is not set up on this server; ask an administrator."

_pending: set[threading.Thread] = set()
_pending_lock = threading.Lock()


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


def is_set_up() -> bool:
    """True when this app may send mail (MAIL_SERVER is set)."""
    return bool(current_app.config.get("MAIL_SERVER"))


def deliver(message: Message | None) -> threading.Thread:
    """Send ``message`` (None: nothing) in the background; the thread doing it.

    The same work is done in the request either way: one thread started.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    thread = threading.Thread(target=_send_in_background, args=(app, message), name="notes-mail")
    with _pending_lock:
        _pending.add(thread)
    thread.start()
    return thread


def send_now(message: Message) -> None:
    """Send ``message`` and wait for the SMTP server's answer; raises OSError or smtplib's errors."""
    cfg = current_app.config
    connection = mail.get_connection(
        backend="smtp",
        host=cfg["MAIL_SERVER"],
        port=int(cfg["MAIL_PORT"]),
        username=cfg.get("MAIL_USERNAME") or "",
        password=cfg.get("MAIL_PASSWORD") or "",
        use_tls=bool(cfg.get("MAIL_USE_TLS")),
        use_ssl=bool(cfg.get("MAIL_USE_SSL")),
        timeout=cfg.get("MAIL_TIMEOUT"),
    )
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=cfg["MAIL_DEFAULT_SENDER"],
        to=[message.to],
        connection=connection,
    )
    email.encoding = "utf-8"
    email.send()


def _send_in_background(app: Flask, message: Message | None) -> None:
    try:
        if message is None:
            return
        with app.app_context():
            try:
                send_now(message)
            except Exception as exc:
                log.error("mail %r could not be sent: %s: %s", message.subject, type(exc).__name__, exc)
    finally:
        with _pending_lock:
            _pending.discard(threading.current_thread())


def wait_for_deliveries(timeout: float = 10.0) -> None:
    """Wait until every message handed to ``deliver`` so far has been sent or given up (tests, shutdown)."""
    with _pending_lock:
        threads = list(_pending)
    for thread in threads:
        thread.join(timeout)
