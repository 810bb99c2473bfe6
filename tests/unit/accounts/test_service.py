"""Account rules: email normalisation, password bounds, sign-up, login, and
changes that need the current password."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.accounts.passwords import verify_password
from app.accounts.rules import normalize_email, password_problem
from app.accounts.service import (
    AccountError,
    PasswordGuessing,
    authenticate,
    change_password,
    create_user,
    delete_user,
)
from app.accounts.throttle import Client
from app.models import ApiToken, Note, User, db

PASSWORD = "correct horse battery"
CLIENT = Client("192.0.2.7")


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("alice@example.com", "alice@example.com"),
        ("  Alice@Example.COM \n", "alice@example.com"),
        ("BOB.SMITH+notes@Example.org", "bob.smith+notes@example.org"),
    ],
)
def test_normalize_email(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("bad", ["", "   ", "alice", "alice@", "@example.com", "a b@example.com", "alice@@example.com"])
def test_normalize_email_refuses_invalid(bad):
    with pytest.raises(AccountError, match="Enter a valid email address"):
        normalize_email(bad)


@pytest.mark.parametrize(
    ("length", "problem"),
    [
        (0, "at least 8"),
        (7, "at least 8"),
        (8, None),
        (128, None),
        (129, "at most 128"),
    ],
)
def test_password_problem_bounds(length, problem):
    # Not a run of one letter: those are on the common-passwords list.
    result = password_problem(("plum-tea" * 20)[:length])
    if problem is None:
        assert result is None
    else:
        assert result is not None and problem in result


def test_create_user_stores_normalized_email_and_a_hash(app):
    user = create_user("  Alice@Example.com ", PASSWORD)
    assert user.id is not None
    assert user.email == "alice@example.com"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_create_user_refuses_duplicate_email_case_insensitively(app):
    create_user("alice@example.com", PASSWORD)
    with pytest.raises(AccountError, match="already exists; log in instead"):
        create_user("ALICE@example.com", "another password")
    assert count(User) == 1


def test_create_user_refuses_short_password_and_writes_nothing(app):
    with pytest.raises(AccountError, match="at least 8"):
        create_user("alice@example.com", "short")
    assert count(User) == 0


def test_create_user_refuses_invalid_email_and_writes_nothing(app):
    with pytest.raises(AccountError, match="valid email"):
        create_user("not-an-email", PASSWORD)
    assert count(User) == 0


def test_create_user_turns_a_lost_race_into_account_error(app, monkeypatch):
    # Both sign-ups passed the lookup; the unique index decides.
    create_user("alice@example.com", PASSWORD)
    monkeypatch.setattr("app.accounts.service.find_user_by_email", lambda email: None)
    with pytest.raises(AccountError, match="already exists"):
        create_user("Alice@example.com", PASSWORD)
    assert count(User) == 1


def test_authenticate_ok_is_case_insensitive(app):
    user = create_user("alice@example.com", PASSWORD)
    assert authenticate("alice@example.com", PASSWORD) == user
    assert authenticate("  ALICE@Example.com ", PASSWORD) == user


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("alice@example.com", "wrong password"),
        ("alice@example.com", ""),
        ("nobody@example.com", PASSWORD),
        ("", PASSWORD),
        (None, None),
    ],
)
def test_authenticate_refuses(app, email, password):
    create_user("alice@example.com", PASSWORD)
    assert authenticate(email, password) is None


def test_authenticate_upgrades_an_outdated_hash(app):
    user = create_user("alice@example.com", PASSWORD)
    old_hash = user.password_hash
    app.config["PASSWORD_HASH_TIME_COST"] += 1
    assert authenticate("alice@example.com", PASSWORD) == user
    db.session.expire_all()
    assert user.password_hash != old_hash
    assert f"t={app.config['PASSWORD_HASH_TIME_COST']}" in user.password_hash


def test_failed_login_does_not_upgrade_the_hash(app):
    user = create_user("alice@example.com", PASSWORD)
    old_hash = user.password_hash
    app.config["PASSWORD_HASH_TIME_COST"] += 1
    assert authenticate("alice@example.com", "wrong password") is None
    db.session.expire_all()
    assert user.password_hash == old_hash


def test_change_password(app):
    user = create_user("alice@example.com", PASSWORD)
    change_password(user, PASSWORD, "a brand new password", CLIENT, revoke_tokens=False)
    db.session.expire_all()
    assert verify_password(user.password_hash, "a brand new password")
    assert not verify_password(user.password_hash, PASSWORD)


def test_change_password_refuses_wrong_current_and_changes_nothing(app):
    user = create_user("alice@example.com", PASSWORD)
    old_hash = user.password_hash
    with pytest.raises(AccountError, match="current password is not correct"):
        change_password(user, "wrong password", "a brand new password", CLIENT, revoke_tokens=False)
    db.session.expire_all()
    assert user.password_hash == old_hash


def test_change_password_refuses_bad_new_password_and_changes_nothing(app):
    user = create_user("alice@example.com", PASSWORD)
    old_hash = user.password_hash
    with pytest.raises(AccountError, match="at least 8"):
        change_password(user, PASSWORD, "short", CLIENT, revoke_tokens=False)
    db.session.expire_all()
    assert user.password_hash == old_hash


def test_delete_user_removes_user_notes_and_tokens(app, factory):
    user = create_user("alice@example.com", PASSWORD)
    other = factory.user()
    factory.note(user)
    factory.token(user)
    factory.note(other)
    delete_user(user, PASSWORD, CLIENT)
    assert db.session.scalars(sa.select(User.id)).all() == [other.id]
    assert count(Note) == 1
    assert count(ApiToken) == 0


def test_delete_user_refuses_wrong_password_and_deletes_nothing(app, factory):
    user = create_user("alice@example.com", PASSWORD)
    factory.note(user)
    factory.token(user)
    with pytest.raises(AccountError, match="not correct; your account was not deleted"):
        delete_user(user, "wrong password", CLIENT)
    db.session.expire_all()
    assert (count(User), count(Note), count(ApiToken)) == (1, 1, 1)


def test_change_password_guesses_are_throttled_like_logins(app):
    user = create_user("alice@example.com", PASSWORD)
    old_hash = user.password_hash
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP"]):
        with pytest.raises(AccountError):
            change_password(user, "a wrong guess", "a brand new password", CLIENT, revoke_tokens=False)
    # Now even the right password is refused until the window has passed.
    with pytest.raises(PasswordGuessing) as info:
        change_password(user, PASSWORD, "a brand new password", CLIENT, revoke_tokens=False)
    assert info.value.retry_after > 0
    db.session.expire_all()
    assert user.password_hash == old_hash


def test_delete_user_guesses_are_throttled_like_logins(app, factory):
    user = create_user("alice@example.com", PASSWORD)
    factory.note(user)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP"]):
        with pytest.raises(AccountError):
            delete_user(user, "a wrong guess", CLIENT)
    with pytest.raises(PasswordGuessing):
        delete_user(user, PASSWORD, CLIENT)
    db.session.expire_all()
    assert (count(User), count(Note)) == (1, 1)
