"""``flask users create``: accounts made without the web form follow the same rules."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts.passwords import verify_password
from app.models import User, db


def _emails() -> list[str]:
    return list(db.session.scalars(sa.select(User.email).order_by(User.id)))


def test_creates_a_user_with_a_normalized_email(app):
    result = app.test_cli_runner().invoke(args=["users", "create", "  Bob@Example.COM", "--password", "long enough"])
    assert result.exit_code == 0, result.output
    assert _emails() == ["bob@example.com"]
    assert "<bob@example.com>" in result.output
    user = db.session.scalar(sa.select(User))
    assert verify_password(user.password_hash, "long enough")


def test_password_can_be_given_at_the_prompt(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "carol@example.com"], input="prompted pw\nprompted pw\n"
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User))
    assert verify_password(user.password_hash, "prompted pw")


def test_duplicate_email_fails_with_a_message(app, user):
    result = app.test_cli_runner().invoke(args=["users", "create", "ALICE@example.com", "--password", "long enough"])
    assert result.exit_code != 0
    assert "An account with this email already exists" in result.output
    assert _emails() == ["alice@example.com"]


def test_short_password_fails_with_a_message(app):
    result = app.test_cli_runner().invoke(args=["users", "create", "dave@example.com", "--password", "short"])
    assert result.exit_code != 0
    assert "Use at least 8 characters." in result.output
    assert _emails() == []


def test_invalid_email_fails_with_a_message(app):
    result = app.test_cli_runner().invoke(args=["users", "create", "not-an-email", "--password", "long enough"])
    assert result.exit_code != 0
    assert "Enter a valid email address" in result.output
    assert _emails() == []
