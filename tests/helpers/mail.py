"""A real SMTP server in the test process (aiosmtpd on a free loopback port), and reading what it caught."""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from .docker_env import free_port

LINK = re.compile(r"https?://\S+/auth/reset/(rst_[A-Za-z0-9_-]+)")


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
        match = LINK.search(self.body)
        assert match, self.body
        return match.group(0)

    @property
    def secret(self) -> str:
        match = LINK.search(self.body)
        assert match, self.body
        return match.group(1)


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
