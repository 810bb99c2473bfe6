"""Mail the app sent, caught two ways: a real SMTP server in the test process
(aiosmtpd on a free loopback port), or the compose `mail` profile's catcher
(mail/catcher.py) read over its HTTP API, for apps in containers that cannot
reach this process. Both are read the same way: ``messages`` (oldest first),
each with ``recipients`` and the reset ``link``, and ``wait_for(n)``."""

from __future__ import annotations

import email
import email.policy
import json
import re
import threading
import time
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from .docker_env import free_port

LINK = re.compile(r"https?://\S+/auth/reset/(rst_[A-Za-z0-9_-]+)")


def _reset_link(body: str) -> re.Match[str]:
    match = LINK.search(body)
    assert match, body
    return match


@dataclass(frozen=True)
class Caught:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None, self.message
        return str(part.get_content())

    @property
    def link(self) -> str:
        return _reset_link(self.body).group(0)

    @property
    def secret(self) -> str:
        return _reset_link(self.body).group(1)


class _Handler:
    def __init__(self, inbox: SmtpCatcher) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.inbox._add(Caught(envelope.mail_from, list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SmtpCatcher:
    """An SMTP server on 127.0.0.1 that keeps every message it is sent."""

    def __init__(self) -> None:
        self.port = free_port()
        self._messages: list[Caught] = []
        self._lock = threading.Lock()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpCatcher:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def _add(self, caught: Caught) -> None:
        with self._lock:
            self._messages.append(caught)

    @property
    def messages(self) -> list[Caught]:
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[Caught]:
        """The messages once ``count`` have arrived; fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.messages
            if len(messages) >= count:
                return messages
            time.sleep(0.02)
        raise AssertionError(f"expected {count} message(s), got {len(self.messages)} in {timeout} s")


@dataclass(frozen=True)
class Listed:
    """A message as the compose catcher lists it: its envelope and plain-text body."""

    sender: str
    recipients: list[str]
    subject: str
    body: str

    @property
    def link(self) -> str:
        return _reset_link(self.body).group(0)

    @property
    def secret(self) -> str:
        return _reset_link(self.body).group(1)


class CatcherInbox:
    """The compose `mail` profile's catcher, read over HTTP (its /messages.json),
    with SmtpCatcher's reading side: ``messages`` oldest first and ``wait_for``."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        # The catcher is on the host's loopback: never through a proxy.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @property
    def messages(self) -> list[Listed]:
        with self._opener.open(self.url + "/messages.json", timeout=5) as response:
            listed = json.load(response)
        # The catcher lists the newest first; SmtpCatcher, the oldest.
        return [Listed(m["sender"], list(m["recipients"]), m["subject"], m["body"]) for m in reversed(listed)]

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[Listed]:
        """The messages once ``count`` have arrived; fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        seen: list[Listed] = []
        last_error: OSError | None = None
        while time.monotonic() < deadline:
            try:
                seen = self.messages
                last_error = None
            except OSError as exc:
                last_error = exc
            if len(seen) >= count:
                return seen
            time.sleep(0.1)
        reason = f" (last error: {last_error!r})" if last_error else ""
        raise AssertionError(f"expected {count} message(s) at {self.url}, got {len(seen)} in {timeout} s{reason}")
