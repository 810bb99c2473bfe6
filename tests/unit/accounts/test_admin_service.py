"""What an administrator may do to accounts, and the one rule that always holds:
an enabled administrator is left."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.helpers.data import Factory

from app.accounts import admin
from app.accounts.sessions import load_session_user, start_session
from app.accounts.tokens import find_usable_token
from app.db.types import utcnow
from app.domain import NotFoundError, RuleConflict
from app.models import ApiToken, AuditEvent, LoginSession, Note, User, db


def events(action: str | None = None) -> list[AuditEvent]:
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


@pytest.fixture
def boss(app) -> User:
    user = Factory().user("boss@example.com")
    user.is_admin = True
    db.session.commit()
    return user


def test_list_accounts_counts_notes_and_knows_when_each_was_last_seen(app, boss):
    alice = Factory().user("alice@example.com")
    Factory().note(alice)
    Factory().note(alice, deleted_at=utcnow())
    _, secret = Factory().token(alice)
    find_usable_token(secret)  # records last_used_at
    rows = {row.user.email: row for row in admin.list_accounts()}
    assert [row.user.email for row in admin.list_accounts()] == ["boss@example.com", "alice@example.com"]
    assert rows["alice@example.com"].notes == 2
    assert rows["alice@example.com"].last_seen is not None
    assert rows["boss@example.com"].notes == 0
    assert rows["boss@example.com"].last_seen is None
    start_session(boss, remember=False)
    assert {row.user.email: row for row in admin.list_accounts()}["boss@example.com"].last_seen is not None


def test_get_account_of_an_unknown_id_is_not_found(app):
    for user_id in (999, 0, -1, 2**63):
        with pytest.raises(NotFoundError, match="No such account"):
            admin.get_account(user_id)


def test_account_summary_is_that_accounts_row_of_the_list(app, boss, authenticator):
    alice = Factory().user("alice@example.com")
    Factory().note(alice)
    Factory().note(alice)
    authenticator.enable(alice)
    start_session(alice, remember=False)
    Factory().note(boss)
    _, secret = Factory().token(boss)
    find_usable_token(secret)
    Factory().user("bob@example.com")
    rows = admin.list_accounts()
    assert [(row.notes, row.two_factor, row.last_seen is not None) for row in rows] == [
        (1, False, True),  # boss
        (2, True, True),  # alice
        (0, False, False),  # bob
    ]
    assert [admin.account_summary(row.user.id) for row in rows] == rows
    for user_id in (999, 0, -1, 2**63):
        with pytest.raises(NotFoundError, match="No such account"):
            admin.account_summary(user_id)


def test_disabling_ends_sessions_and_tokens_at_once_and_is_audited(app, boss):
    alice = Factory().user("alice@example.com")
    sid = start_session(alice, remember=True)
    _, secret = Factory().token(alice)
    admin.disable(alice, actor=boss, ip="192.0.2.1")
    assert alice.is_disabled
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession)) == 0
    assert load_session_user(sid) is None
    assert find_usable_token(secret) is None
    (event,) = events("account_disabled")
    assert (event.actor_email, event.target_email, event.ip) == ("boss@example.com", "alice@example.com", "192.0.2.1")
    assert event.detail == "1 sessions, 1 tokens ended"


def test_a_disabled_accounts_surviving_session_row_lets_nobody_in(app, boss):
    alice = Factory().user("alice@example.com")
    sid = start_session(alice, remember=False)
    # Disabled behind the service's back (a row edited by hand): the loader still refuses.
    alice.disabled_at = utcnow()
    db.session.commit()
    assert load_session_user(sid) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession)) == 0


def test_enabling_lets_the_account_in_but_its_tokens_stay_revoked(app, boss):
    alice = Factory().user("alice@example.com")
    _, secret = Factory().token(alice)
    admin.disable(alice, actor=boss)
    admin.enable(alice, actor=boss)
    assert not alice.is_disabled
    assert find_usable_token(secret) is None
    assert [e.action for e in events()] == ["token_created", "account_disabled", "account_enabled"]


def test_disable_and_enable_twice_change_and_record_nothing_more(app, boss):
    alice = Factory().user("alice@example.com")
    admin.disable(alice, actor=boss)
    admin.disable(alice, actor=boss)
    admin.enable(alice, actor=boss)
    admin.enable(alice, actor=boss)
    assert [e.action for e in events()] == ["account_disabled", "account_enabled"]


def test_revoke_access_counts_what_it_ended(app, boss):
    alice = Factory().user("alice@example.com")
    start_session(alice, remember=False)
    start_session(alice, remember=False)
    Factory().token(alice)
    revoked, _ = Factory().token(alice)
    revoked.revoked = True
    db.session.commit()
    assert admin.revoke_access(alice, actor=boss) == (2, 1)
    assert not alice.is_disabled  # may log in again at once


def test_promote_and_demote_are_audited_and_demoting_revokes_admin_tokens(app, boss):
    alice = Factory().user("alice@example.com")
    admin.set_admin(alice, True, actor=boss)
    _, admin_secret = Factory().token(alice, scope="admin")
    _, write_secret = Factory().token(alice, scope="write")
    admin.set_admin(alice, False, actor=boss)
    assert not alice.is_admin
    assert find_usable_token(admin_secret) is None
    assert find_usable_token(write_secret) is not None
    assert [e.action for e in events()] == ["admin_granted", "token_created", "token_created", "admin_revoked"]


@pytest.mark.parametrize(
    "action",
    [
        lambda user: admin.set_admin(user, False, actor=None),
        lambda user: admin.disable(user, actor=None),
        lambda user: admin.delete_account(user, actor=None),
    ],
    ids=["demote", "disable", "delete"],
)
def test_the_last_enabled_administrator_stays(app, boss, action):
    before = events()
    with pytest.raises(RuleConflict, match=r"boss@example\.com is the last administrator"):
        action(boss)
    db.session.rollback()
    db.session.expire_all()
    assert boss.is_admin and not boss.is_disabled
    assert db.session.get(User, boss.id) is not None
    assert events() == before


def test_a_disabled_administrator_does_not_count_as_the_one_left(app, boss):
    other = Factory().user("other@example.com")
    admin.set_admin(other, True, actor=boss)
    admin.disable(other, actor=boss)
    with pytest.raises(RuleConflict):
        admin.set_admin(boss, False, actor=boss)


def test_with_a_second_administrator_the_first_may_go(app, boss):
    other = Factory().user("other@example.com")
    admin.set_admin(other, True, actor=boss)
    admin.set_admin(boss, False, actor=other)
    assert not boss.is_admin


def test_delete_removes_the_account_and_its_notes_but_the_log_keeps_its_email(app, boss):
    alice = Factory().user("alice@example.com")
    Factory().note(alice)
    Factory().token(alice)
    start_session(alice, remember=False)
    admin.set_admin(alice, True, actor=boss)
    alice_id = alice.id
    admin.delete_account(alice, actor=boss, ip="192.0.2.1")
    assert db.session.get(User, alice_id) is None
    for model in (Note, ApiToken, LoginSession):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
    deleted = events("account_deleted")[-1]
    assert (deleted.target_email, deleted.actor_email, deleted.detail) == (
        "alice@example.com",
        "boss@example.com",
        "by an administrator",
    )
    granted = events("admin_granted")[-1]
    assert granted.target_id is None and granted.target_email == "alice@example.com"


def test_session_activity_counts_as_last_seen(app, boss):
    sid = start_session(boss, remember=False)
    row = db.session.scalar(sa.select(LoginSession))
    row.last_seen_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert load_session_user(sid) is not None  # touches last_seen_at
    (summary,) = admin.list_accounts()
    assert summary.last_seen is not None and utcnow() - summary.last_seen < timedelta(minutes=1)
