"""Hashes made with other argon2 parameters are upgraded at the next login."""

from __future__ import annotations

from argon2 import PasswordHasher
from tests.helpers.data import PASSWORD

from app.models import db

# The test config hashes with t=1, m=8 KiB, p=1; these differ in every knob.
OLD_HASHER = PasswordHasher(time_cost=3, memory_cost=16, parallelism=2)


def _give_old_hash(user) -> str:
    user.password_hash = OLD_HASHER.hash(PASSWORD)
    db.session.commit()
    return user.password_hash


def test_login_rehashes_with_todays_parameters(app, auth, user):
    old = _give_old_hash(user)
    assert auth.login().status_code == 302
    db.session.refresh(user)
    assert user.password_hash != old
    assert user.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    # The new hash still verifies the same password, and only that one.
    assert PasswordHasher().verify(user.password_hash, PASSWORD)
    auth.logout()
    assert auth.login(password="wrong password").status_code == 401
    assert auth.login().status_code == 302


def test_failed_login_leaves_an_old_hash_alone(app, auth, user):
    old = _give_old_hash(user)
    assert auth.login(password="not the password").status_code == 401
    db.session.refresh(user)
    assert user.password_hash == old


def test_current_hash_is_not_rewritten_at_login(app, auth, user):
    current = user.password_hash
    assert auth.login().status_code == 302
    db.session.refresh(user)
    assert user.password_hash == current
