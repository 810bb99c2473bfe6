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


def test_guessing_the_current_password_is_throttled_and_changes_nothing(app, client, logged_in):
    """A stolen session cannot guess the password here faster than at the login form."""
    app.config["LOGIN_MAX_FAILURES_PER_DEVICE"] = 3
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP"] = 3
    before = _hash(logged_in)
    for _ in range(3):
        assert _change(client, current="a wrong guess").status_code == 400
    response = _change(client)  # the right password, too late
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert b"Too many wrong passwords" in response.data
    assert _hash(logged_in) == before


def test_guesses_here_count_against_the_login_too(app, client, logged_in):
    """The same limits as the login form: a browser without the owner's device cookie is kept out too."""
    app.config["LOGIN_MAX_FAILURES_PER_DEVICE"] = 3
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP"] = 3
    for _ in range(3):
        _change(client, current="a wrong guess")
    other_browser = app.test_client()
    response = other_browser.post("/auth/login", data={"email": logged_in.email, "password": PASSWORD})
    assert response.status_code == 429
