"""An authenticator app for tests: it computes codes with the same TOTP library as the server,
on a clock the server's two-factor checks read too, so a test can move to the next 30-second step."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pyotp
from tests.helpers.data import PASSWORD

from app.accounts import twofactor
from app.accounts.throttle import Client
from app.db.types import utcnow
from app.models import User

STEP = timedelta(seconds=twofactor.INTERVAL)
SECRET_ON_PAGE = re.compile(r'<code id="totp-secret">([A-Z2-7]+)</code>')
RECOVERY_CODES_ON_PAGE = re.compile(r"<li><code>([a-z2-7]{4}(?:-[a-z2-7]{4}){5})</code></li>")


def code_at(secret: str, at: datetime) -> str:
    return pyotp.TOTP(secret, digits=twofactor.DIGITS, interval=twofactor.INTERVAL).at(at)


def current_code(secret: str) -> str:
    """The code an authenticator app shows now (for a server whose clock is not patched)."""
    return code_at(secret, utcnow())


def next_step_code(secret: str) -> str:
    """The code of the next 30-second step, which the server also takes now (it allows one step of drift)."""
    return code_at(secret, utcnow() + STEP)


class Authenticator:
    """The phone: one secret, and a clock shared with ``app.accounts.twofactor``."""

    def __init__(self, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        self.now = utcnow()
        self.secret = ""
        monkeypatch.setattr(twofactor, "utcnow", lambda: self.now)

    def code(self) -> str:
        """The code on screen now."""
        return code_at(self.secret, self.now)

    def tick(self) -> str:
        """Wait for the next step; its code."""
        self.now += STEP
        return self.code()

    def enable(self, user: User, client: Client | None = None) -> list[str]:
        """Turn two-factor login on for ``user`` through the service; the recovery codes.

        The clock then moves on one step, so the next ``code()`` is a fresh one.
        """
        self.secret = twofactor.start_enrolment(user).secret
        # The factory's password; for an account made by single sign-on, as if it had just confirmed.
        codes = twofactor.confirm_enrolment(
            user, PASSWORD, self.code(), client or Client("192.0.2.1"), sso_confirmed=True
        )
        self.tick()
        return codes
