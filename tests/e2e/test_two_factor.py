"""Two-factor login on PostgreSQL: the two-step login through the pages, and two requests racing
with one code (or one recovery code): exactly one is let in."""

from __future__ import annotations

from collections.abc import Callable

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask
from tests.helpers.data import PASSWORD
from tests.helpers.e2e import at_once, count, text
from tests.helpers.twofactor import STEP, code_at, current_code, next_step_code

from app.accounts import twofactor
from app.accounts.passwords import hash_password
from app.accounts.rules import AccountError
from app.accounts.throttle import Client
from app.db.types import utcnow
from app.models import AuditEvent, LoginSession, RecoveryCode, TwoFactorChallenge, User, db

pytestmark = pytest.mark.e2e

CLIENT = Client("192.0.2.9")


def test_logging_in_with_a_code_and_a_recovery_code(client, user):
    secret = twofactor.start_enrolment(user).secret
    codes = twofactor.confirm_enrolment(user, PASSWORD, current_code(secret), CLIENT)

    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/auth/login/code", text(response)
    assert count(LoginSession) == 0 and count(TwoFactorChallenge) == 1
    assert client.post("/auth/login/code", data={"code": next_step_code(secret)}).status_code == 302
    assert client.get("/account/").status_code == 200
    client.post("/auth/logout")

    client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert client.post("/auth/login/code", data={"code": codes[0]}).status_code == 302
    assert count(RecoveryCode, RecoveryCode.used_at.is_not(None)) == 1
    row = db.session.execute(sa.select(User.__table__).where(User.id == user.id)).mappings().one()
    assert secret not in row["totp_secret"]


def _race(apps: list[Flask], user_id: int, code: str, statement_start: str) -> list[str]:
    """Both apps check ``code`` for the user, held just before the statement that
    claims it (``statement_start``) until both have read what they check; each one's outcome."""

    def check(index: int) -> str:
        with apps[index].app_context():
            user = db.session.get(User, user_id)
            try:
                twofactor.check_second_factor(user, code, CLIENT)
            except AccountError:
                return "refused"
            db.session.commit()
            return "in"

    outcomes, errors = at_once(
        apps, check, pause_before=lambda statement: statement.lstrip().startswith(statement_start)
    )
    assert not errors, errors
    return sorted(outcomes.values())


def _audited(app: Flask, action: str) -> int:
    with app.app_context():
        return count(AuditEvent, AuditEvent.action == action)


@pytest.fixture
def enrolled(committed_app: Callable[[], Flask]) -> tuple[list[Flask], int, str, list[str]]:
    apps = [committed_app(), committed_app()]
    with apps[0].app_context():
        user = User(email="race@example.com", password_hash=hash_password(PASSWORD))
        db.session.add(user)
        db.session.commit()
        secret = twofactor.start_enrolment(user).secret
        codes = twofactor.confirm_enrolment(user, PASSWORD, current_code(secret), CLIENT)
        return apps, user.id, secret, codes


def test_two_requests_with_one_code_let_one_in(enrolled) -> None:
    apps, user_id, secret, _ = enrolled
    at = utcnow() + STEP  # the next 30-second step, which the server takes now too
    step = pyotp.TOTP(secret, digits=twofactor.DIGITS, interval=twofactor.INTERVAL).timecode(at)
    # Both have read the last accepted step before either claims the new one.
    assert _race(apps, user_id, code_at(secret, at), "UPDATE users SET totp_last_step") == ["in", "refused"]
    with apps[0].app_context():
        assert db.session.scalar(sa.select(User.totp_last_step).where(User.id == user_id)) == step
    assert _audited(apps[0], "two_factor_failed") == 1  # the one refused counts as a wrong code


def test_two_requests_with_one_recovery_code_let_one_in(enrolled) -> None:
    apps, user_id, _, codes = enrolled
    assert _race(apps, user_id, codes[0], "UPDATE recovery_codes") == ["in", "refused"]
    with apps[0].app_context():
        assert count(RecoveryCode, RecoveryCode.used_at.is_not(None)) == 1
    assert _audited(apps[0], "recovery_code_used") == 1
    assert _audited(apps[0], "two_factor_failed") == 1  # the one refused counts as a wrong code
