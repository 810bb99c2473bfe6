"""Changing the password from the account page."""

from __future__ import annotations

from tests.helpers.data import PASSWORD

from app.models import db

NEW = "a brand new passphrase"


def _change(client, current=PASSWORD, new=NEW, confirm=None):
    return client.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "confirm": new if confirm is None else confirm},
    )


def _hash(user) -> str:
    db.session.refresh(user)
    return user.password_hash


def test_wrong_current_password_changes_nothing(client, logged_in):
    before = _hash(logged_in)
    response = _change(client, current="not my password")
    assert response.status_code == 400
    assert b"Your current password is not correct." in response.data
    assert _hash(logged_in) == before


def test_mismatched_new_passwords_change_nothing(client, logged_in):
    before = _hash(logged_in)
    response = _change(client, confirm="something else entirely")
    assert response.status_code == 400
    assert b"The passwords do not match." in response.data
    assert _hash(logged_in) == before


def test_too_short_new_password_changes_nothing(client, logged_in):
    before = _hash(logged_in)
    response = _change(client, new="short")
    assert response.status_code == 400
    assert b"Use 8 to 128 characters." in response.data
    assert _hash(logged_in) == before


def test_success_switches_the_password(client, auth, logged_in):
    before = _hash(logged_in)
    response = _change(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    assert b"Your password has been changed." in client.get("/account/").data
    assert _hash(logged_in) != before

    auth.logout()
    assert auth.login(password=PASSWORD).status_code == 401
    assert auth.login(password=NEW).status_code == 302
