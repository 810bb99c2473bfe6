"""Signing up under REGISTRATION open, invite and closed; invitations are single use."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.helpers.data import PASSWORD, Factory

from app.accounts import invites
from app.accounts.rules import INVITE_NEEDED, REGISTRATION_CLOSED, AccountError, registration_refusal
from app.accounts.service import DISABLED, log_in, register
from app.accounts.throttle import Client
from app.db.types import utcnow
from app.domain import NotAllowed, RuleConflict
from app.models import AuditEvent, AuthFailure, Invite, User, db

CLIENT = Client("192.0.2.7")


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


@pytest.mark.parametrize(
    ("mode", "invite", "refusal"),
    [
        ("open", None, None),
        ("open", "inv_x", None),
        ("invite", "inv_x", None),
        ("invite", None, INVITE_NEEDED),
        ("invite", "", INVITE_NEEDED),
        ("closed", None, REGISTRATION_CLOSED),
        ("closed", "inv_x", REGISTRATION_CLOSED),
    ],
)
def test_the_registration_rule(mode: str, invite: str | None, refusal: str | None) -> None:
    """One rule for the register page, the sign-up service and SSO: closed refuses even with an invitation."""
    assert registration_refusal(mode, invite) == refusal


@pytest.fixture
def boss(app) -> User:
    user = Factory().user("boss@example.com")
    user.is_admin = True
    db.session.commit()
    return user


def test_open_registration_creates_an_audited_account(app):
    user = register("new@example.com", PASSWORD, mode="open", ip="192.0.2.9")
    event = db.session.scalar(sa.select(AuditEvent))
    assert (event.action, event.target_id, event.ip) == ("register", user.id, "192.0.2.9")


def test_closed_registration_refuses_and_writes_nothing(app):
    with pytest.raises(NotAllowed, match="Registration is closed"):
        register("new@example.com", PASSWORD, mode="closed")
    assert count(User) == count(AuditEvent) == 0


def test_invite_mode_without_an_invitation_refuses(app):
    with pytest.raises(NotAllowed, match="needs an invitation link"):
        register("new@example.com", PASSWORD, mode="invite", invite=None)
    assert count(User) == 0


def test_an_invitation_registers_exactly_one_account(app, boss):
    invite, secret = invites.create_invite(boss, days=3, note="for Mum")
    assert secret.startswith("inv_") and invite.token_hash != secret  # only the hash is kept
    user = register("mum@example.com", PASSWORD, mode="invite", invite=secret)
    db.session.refresh(invite)
    assert invite.used_by_id == user.id and invite.used_at is not None
    with pytest.raises(RuleConflict, match="not valid"):
        register("second@example.com", PASSWORD, mode="invite", invite=secret)
    assert [u.email for u in db.session.scalars(sa.select(User).order_by(User.id))] == [
        "boss@example.com",
        "mum@example.com",
    ]


@pytest.mark.parametrize("secret", ["", "inv_unknown", "nope", "inv_" + "x" * 200])
def test_an_unknown_invitation_refuses_and_writes_nothing(app, boss, secret):
    with pytest.raises((RuleConflict, NotAllowed)):
        register("new@example.com", PASSWORD, mode="invite", invite=secret)
    assert count(User) == 1


def test_an_expired_invitation_refuses_and_stays_unused(app, boss):
    invite, secret = invites.create_invite(boss, days=1)
    invite.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(RuleConflict):
        register("new@example.com", PASSWORD, mode="invite", invite=secret)
    db.session.refresh(invite)
    assert invite.used_at is None and count(User) == 1


def test_a_bad_password_with_a_good_invitation_leaves_it_usable(app, boss):
    _, secret = invites.create_invite(boss)
    with pytest.raises(AccountError):
        register("new@example.com", "short", mode="invite", invite=secret)
    assert invites.usable_invite(secret) is not None
    register("new@example.com", PASSWORD, mode="invite", invite=secret)


def test_a_withdrawn_invitation_stops_working(app, boss):
    invite, secret = invites.create_invite(boss)
    invites.withdraw_invite(invite.id, boss)
    assert count(Invite) == 0
    with pytest.raises(RuleConflict):
        register("new@example.com", PASSWORD, mode="invite", invite=secret)
    actions = list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["invite_created", "invite_deleted"]


def test_a_used_invitation_cannot_be_withdrawn(app, boss):
    invite, secret = invites.create_invite(boss)
    register("new@example.com", PASSWORD, mode="invite", invite=secret)
    with pytest.raises(RuleConflict, match="used already"):
        invites.withdraw_invite(invite.id, boss)


@pytest.mark.parametrize(("days", "note"), [(0, ""), (91, ""), (7, "n" * 101), (7, "nul\x00")])
def test_bad_invitation_settings_are_refused(app, boss, days, note):
    with pytest.raises(AccountError):
        invites.create_invite(boss, days=days, note=note)
    assert count(Invite) == 0


def test_log_in_audits_success_and_failure(app):
    alice = Factory().user("alice@example.com")
    with pytest.raises(AccountError, match="Invalid email or password"):
        log_in("alice@example.com", "wrong password", CLIENT)
    with pytest.raises(AccountError, match="Invalid email or password"):
        log_in("nobody@example.com", "wrong password", CLIENT)
    assert log_in("alice@example.com", PASSWORD, CLIENT) is alice
    rows = db.session.execute(
        sa.select(AuditEvent.action, AuditEvent.target_id, AuditEvent.target_email, AuditEvent.ip).order_by(
            AuditEvent.id
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("login_failed", alice.id, "alice@example.com", "192.0.2.7"),
        ("login_failed", None, "nobody@example.com", "192.0.2.7"),
        ("login", alice.id, "alice@example.com", "192.0.2.7"),
    ]


def test_a_disabled_account_cannot_log_in_even_with_its_password(app):
    alice = Factory().user("alice@example.com")
    alice.disabled_at = utcnow()
    db.session.commit()
    with pytest.raises(NotAllowed, match="disabled") as refused:
        log_in("alice@example.com", PASSWORD, CLIENT)
    assert str(refused.value) == DISABLED
    # A wrong password says nothing about the account being disabled.
    with pytest.raises(AccountError, match="Invalid email or password"):
        log_in("alice@example.com", "wrong password", CLIENT)
    assert count(AuthFailure) > 0
