"""The sessions a user controls: what a login records, the list of live
sessions, ending one or all the others, and a new password's choice to
revoke the API tokens too."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.helpers.data import PASSWORD, Factory

from app.accounts.passwords import verify_password
from app.accounts.rules import AccountError
from app.accounts.service import (
    CHANGED_MEANWHILE,
    PasswordChanged,
    PasswordChangedMeanwhile,
    change_password,
    set_password,
)
from app.accounts.sessions import (
    CurrentSession,
    SessionNotFound,
    active_sessions,
    end_other_sessions,
    end_user_session,
    load_session_user,
    start_session,
)
from app.accounts.throttle import Client
from app.accounts.tokens import find_usable_token
from app.models import AuditEvent, LoginSession, User, db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Mobile/15E148 Safari/604.1"
)
CLIENT = Client("192.0.2.7")


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def session_ids(user: User) -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(sa.select(LoginSession.id).where(LoginSession.user_id == user.id)))


@pytest.fixture
def alice(app) -> User:
    return Factory().user("alice@example.com")


def test_a_login_records_its_user_agent_and_address_cut_to_their_columns(alice):
    start_session(alice, remember=False, user_agent=FIREFOX, ip="2001:db8::1")
    start_session(alice, remember=False, user_agent="Z" * 1000, ip="9" * 100)
    start_session(alice, remember=False)
    rows = list(db.session.scalars(sa.select(LoginSession).order_by(LoginSession.id)))
    assert [(r.user_agent, r.ip) for r in rows] == [(FIREFOX, "2001:db8::1"), ("Z" * 255, "9" * 45), (None, None)]


def test_active_sessions_names_the_devices_and_marks_the_current_one(alice):
    laptop = start_session(alice, remember=False, user_agent=FIREFOX, ip="192.0.2.1")
    start_session(alice, remember=True, user_agent=IPHONE, ip="198.51.100.2")
    Factory().user("bob@example.com")
    listed = active_sessions(alice, current_sid=laptop)
    assert sorted((s.device, s.ip, s.remember, s.current) for s in listed) == [
        ("Firefox on Linux", "192.0.2.1", False, True),
        ("Safari on iPhone", "198.51.100.2", True, False),
    ]
    assert not any(s.current for s in active_sessions(alice))  # a token's call has no session of its own


def test_active_sessions_leaves_out_the_timed_out_ones_and_other_users(app, alice):
    start_session(alice, remember=False, user_agent=FIREFOX)
    start_session(alice, remember=False, user_agent=IPHONE)
    start_session(Factory().user("bob@example.com"), remember=False)
    idle = db.session.scalars(sa.select(LoginSession).where(LoginSession.user_agent == IPHONE)).one()
    idle.last_seen_at -= app.config["SESSION_IDLE_TIMEOUT"] + timedelta(seconds=1)
    db.session.commit()
    assert [s.device for s in active_sessions(alice)] == ["Firefox on Linux"]


def test_ending_a_session_deletes_it_at_once_and_is_audited(alice):
    laptop = start_session(alice, remember=False, user_agent=FIREFOX)
    phone = start_session(alice, remember=True, user_agent=IPHONE, ip="198.51.100.2")
    phone_id = next(s.id for s in active_sessions(alice, current_sid=laptop) if not s.current)

    assert end_user_session(alice, phone_id, current_sid=laptop, ip="192.0.2.1") == "Safari on iPhone"

    assert load_session_user(phone) is None
    assert load_session_user(laptop) is not None
    (event,) = events("session_ended")
    assert (event.target_id, event.actor_id, event.ip) == (alice.id, alice.id, "192.0.2.1")
    assert event.detail == "Safari on iPhone, from 198.51.100.2"


def test_another_users_session_is_not_found_and_stays(alice):
    bob = Factory().user("bob@example.com")
    bobs = start_session(bob, remember=False)
    start_session(alice, remember=False)
    (bob_session_id,) = session_ids(bob)
    for session_id in (bob_session_id, 999_999, 0, -1, 2**63):
        with pytest.raises(SessionNotFound, match="No such session"):
            end_user_session(alice, session_id, current_sid=None)
    assert load_session_user(bobs) is not None
    assert events("session_ended") == []


def test_the_current_session_cannot_be_ended_this_way(alice):
    sid = start_session(alice, remember=False)
    (current_id,) = session_ids(alice)
    with pytest.raises(CurrentSession, match="log out instead"):
        end_user_session(alice, current_id, current_sid=sid)
    assert load_session_user(sid) is not None
    assert events("session_ended") == []


def test_ending_the_others_keeps_the_current_session_and_is_audited(alice):
    keep = start_session(alice, remember=False)
    gone = [start_session(alice, remember=False) for _ in range(2)]
    bobs = start_session(Factory().user("bob@example.com"), remember=False)

    assert end_other_sessions(alice, keep_sid=keep, ip="192.0.2.1") == 2

    assert load_session_user(keep) is not None
    assert [load_session_user(sid) for sid in gone] == [None, None]
    assert load_session_user(bobs) is not None
    (event,) = events("other_sessions_ended")
    assert (event.detail, event.ip) == ("2 sessions", "192.0.2.1")


def test_timed_out_sessions_go_too_but_are_not_counted(app, alice):
    """The count matches the list the user saw, which leaves timed-out sessions out."""
    keep = start_session(alice, remember=False)
    start_session(alice, remember=False, user_agent=FIREFOX)
    start_session(alice, remember=False, user_agent=IPHONE)
    stale = db.session.scalars(sa.select(LoginSession).where(LoginSession.user_agent == IPHONE)).one()
    stale.last_seen_at -= app.config["SESSION_IDLE_TIMEOUT"] + timedelta(seconds=1)
    db.session.commit()
    assert len(active_sessions(alice, current_sid=keep)) == 2

    assert end_other_sessions(alice, keep_sid=keep) == 1
    assert len(session_ids(alice)) == 1
    assert events("other_sessions_ended")[0].detail == "1 session"


def test_without_a_current_session_ending_the_others_ends_them_all(alice):
    start_session(alice, remember=False)
    assert end_other_sessions(alice, keep_sid=None) == 1  # as for an API token's call
    assert session_ids(alice) == set()
    assert events("other_sessions_ended")[0].detail == "1 session"


@pytest.mark.parametrize("revoke", [True, False])
def test_a_new_password_ends_other_sessions_and_revokes_tokens_if_asked(alice, revoke):
    keep = start_session(alice, remember=False)
    other = start_session(alice, remember=False)
    alice.login_sid = keep
    _, first = Factory().token(alice)
    _, second = Factory().token(alice)
    bobs_token = Factory().token(Factory().user("bob@example.com"))[1]

    result = change_password(alice, PASSWORD, "a brand new passphrase", CLIENT, revoke_tokens=revoke)

    assert result == PasswordChanged(sessions_ended=1, tokens_revoked=2 if revoke else 0)
    assert verify_password(alice.password_hash, "a brand new passphrase")
    assert load_session_user(keep) is not None and load_session_user(other) is None
    usable = [find_usable_token(secret) is not None for secret in (first, second)]
    assert usable == ([False, False] if revoke else [True, True])
    assert find_usable_token(bobs_token) is not None
    (changed,) = events("password_changed")
    assert changed.detail == "1 other session ended"
    revoked = events("tokens_revoked")
    assert [e.detail for e in revoked] == (["2 tokens with the new password"] if revoke else [])


def test_a_refused_password_change_revokes_nothing_and_ends_nothing(alice):
    keep = start_session(alice, remember=False)
    other = start_session(alice, remember=False)
    alice.login_sid = keep
    _, secret = Factory().token(alice)
    for current, new in ((PASSWORD, "short"), ("not my password", "a brand new passphrase")):
        with pytest.raises(AccountError):
            change_password(alice, current, new, CLIENT, revoke_tokens=True)
        db.session.rollback()
    assert load_session_user(other) is not None
    assert find_usable_token(secret) is not None
    assert events("password_changed") == events("tokens_revoked") == []


def test_set_password_without_a_session_ends_every_session(alice):
    """As a password reset will: the user holds a link, not a session."""
    sid = start_session(alice, remember=False)
    assert set_password(alice, "a brand new passphrase", revoke_tokens=False) == PasswordChanged(1, 0)
    assert load_session_user(sid) is None


def _changed_elsewhere(user: User, new_hash: str = "elsewhere", *, disable: bool = False) -> None:
    """Another request's committed change, behind the back of the ``user`` this session has loaded."""
    values: dict[str, object] = {"password_hash": new_hash}
    if disable:
        values["disabled_at"] = sa.func.now()
    db.session.execute(
        sa.update(User).where(User.id == user.id).values(**values).execution_options(synchronize_session=False)
    )


@pytest.mark.parametrize("disable", [False, True], ids=["password changed", "account disabled"])
def test_set_password_refuses_an_account_changed_meanwhile(alice, disable):
    """Of two changes racing, the second finds another password (or a disabled account) and writes nothing."""
    sid = start_session(alice, remember=False)
    loaded_hash = alice.password_hash
    _changed_elsewhere(alice, disable=disable)
    with pytest.raises(PasswordChangedMeanwhile):
        set_password(alice, "a brand new passphrase", revoke_tokens=True)
    db.session.expire_all()
    assert alice.password_hash == loaded_hash  # the other change was not committed either: rolled back with ours
    assert load_session_user(sid) is not None
    assert events("password_changed") == []


def test_changing_a_password_changed_meanwhile_says_so(alice, monkeypatch):
    """The words for the race: another request changed it between our check of the current one and our write."""
    import app.accounts.service as service

    check = service.confirm_password

    def check_then_race(user, *args, **kwargs):
        check(user, *args, **kwargs)
        _changed_elsewhere(user)

    monkeypatch.setattr(service, "confirm_password", check_then_race)
    with pytest.raises(AccountError) as raised:
        change_password(alice, PASSWORD, "a brand new passphrase", CLIENT, revoke_tokens=False)
    assert str(raised.value) == CHANGED_MEANWHILE and raised.value.field == "current_password"
    assert events("password_changed") == []
