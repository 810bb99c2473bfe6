"""``flask users ...``: accounts made and managed without the web, by the same rules."""

from __future__ import annotations

from unittest.mock import ANY

import pytest
import sqlalchemy as sa

from app.accounts.invites import usable_invite
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


def _run(app, *args: str, **kwargs):
    return app.test_cli_runner().invoke(args=["users", *args], **kwargs)


def test_create_admin_promote_demote_and_list(app):
    assert _run(app, "create", "root@example.com", "--password", "long enough", "--admin").exit_code == 0
    assert _run(app, "create", "bob@example.com", "--password", "long enough").exit_code == 0
    assert db.session.scalar(sa.select(User.is_admin).where(User.email == "root@example.com")) is True
    promoted = _run(app, "promote", "bob@example.com")
    assert promoted.exit_code == 0, promoted.output
    listed = _run(app, "list").output.splitlines()
    assert [line.split("\t")[1:4] for line in listed] == [
        ["root@example.com", "admin", "active"],
        ["bob@example.com", "admin", "active"],
    ]
    assert _run(app, "demote", "root@example.com").exit_code == 0
    last = _run(app, "demote", "bob@example.com")
    assert last.exit_code == 1
    assert "last administrator" in last.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.is_admin).where(User.email == "bob@example.com")) is True


def test_list_has_the_admin_pages_columns_two_factor_included(app, factory, user, authenticator):
    """Role, state, two-factor login, notes, created, last seen: what /admin/users shows, in its order."""
    authenticator.enable(user)
    factory.note(user)
    bob = factory.user("bob@example.com")
    assert _run(app, "disable", "bob@example.com").exit_code == 0
    listed = _run(app, "list")
    assert listed.exit_code == 0, listed.output
    rows = [line.split("\t") for line in listed.output.splitlines()]
    assert rows == [
        [str(user.id), "alice@example.com", "user", "active", "2FA on", "1 notes", ANY, "last seen never"],
        [str(bob.id), "bob@example.com", "user", "disabled", "2FA off", "0 notes", ANY, "last seen never"],
    ]
    assert [row[6] for row in rows] == [f"created {u.created_at:%Y-%m-%d}" for u in (user, bob)]


def test_disable_enable_and_delete(app, user):
    assert _run(app, "disable", "alice@example.com").exit_code == 0
    db.session.expire_all()
    assert user.is_disabled
    assert _run(app, "enable", "alice@example.com").exit_code == 0
    db.session.expire_all()
    assert not user.is_disabled
    refused = _run(app, "delete", "alice@example.com", input="n\n")
    assert refused.exit_code == 1
    assert db.session.scalar(sa.select(User.id).where(User.email == "alice@example.com")) is not None
    assert _run(app, "delete", "alice@example.com", "--yes").exit_code == 0
    assert _emails() == []


@pytest.mark.parametrize("command", ["promote", "demote", "disable", "enable", "delete"])
def test_an_unknown_email_says_so(app, command):
    result = (
        _run(app, command, "ghost@example.com", "--yes")
        if command == "delete"
        else _run(app, command, "ghost@example.com")
    )
    assert result.exit_code == 1
    assert "No account with the email 'ghost@example.com'" in result.output


def test_invite_prints_a_single_use_link(app):
    result = _run(app, "invite", "--days", "2", "--note", "for Mum", "--base-url", "https://notes.example.org/")
    assert result.exit_code == 0, result.output
    link = result.stdout.strip()
    assert link.startswith("https://notes.example.org/auth/register?invite=inv_")
    secret = link.split("invite=", 1)[1]
    invite = usable_invite(secret)
    assert invite is not None and invite.note == "for Mum"
    bad = _run(app, "invite", "--days", "0")
    assert bad.exit_code == 1 and "1 to 90 days" in bad.output


def test_reset_link_prints_a_link_that_sets_a_new_password(app, client, user):
    """Without mail, an administrator hands the link over: the same kind of link as the mailed one."""
    result = _run(app, "reset-link", "ALICE@example.com", "--base-url", "https://notes.example.org/")
    assert result.exit_code == 0, result.output
    link = result.stdout.strip()
    assert link.startswith("https://notes.example.org/auth/reset/rst_")
    assert "expires in 30 minutes" in result.stderr
    path = link.removeprefix("https://notes.example.org")
    assert client.get(path).status_code == 200
    response = client.post(path, data={"password": "handed over in person", "confirm": "handed over in person"})
    assert response.status_code == 302
    db.session.expire_all()
    assert verify_password(db.session.get(User, user.id).password_hash, "handed over in person")
    # Single use.
    assert client.get(path).status_code == 404
    from app.models import AuditEvent

    events = db.session.scalars(sa.select(AuditEvent.detail).where(AuditEvent.action == "password_reset_requested"))
    assert list(events) == ["link made by an administrator"]


def test_reset_link_without_a_base_url_prints_the_path(app, user):
    result = _run(app, "reset-link", "alice@example.com")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().startswith("/auth/reset/rst_")


def test_reset_link_refuses_unknown_and_disabled_accounts(app, user):
    from app.models import PasswordReset

    unknown = _run(app, "reset-link", "ghost@example.com")
    assert unknown.exit_code == 1
    assert "No account with the email 'ghost@example.com'" in unknown.output
    user.disabled_at = user.created_at
    db.session.commit()
    disabled = _run(app, "reset-link", "alice@example.com")
    assert disabled.exit_code == 1
    assert "alice@example.com is disabled" in disabled.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PasswordReset)) == 0
