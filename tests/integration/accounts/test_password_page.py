"""Changing the password from the account page."""

from __future__ import annotations

import re

from tests.helpers.data import PASSWORD
from tests.helpers.web import bearer

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


def _flashes(client) -> list[str]:
    page = client.get("/account/").get_data(as_text=True)
    return re.findall(r'<p class="flash[^"]*">([^<]*)</p>', page)


def _token_states(user) -> list[bool]:
    db.session.expire_all()
    return sorted(token.revoked for token in user.tokens)


def test_the_revoke_tokens_box_is_offered_checked(client, logged_in):
    page = client.get("/account/").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="revoke_tokens"[^>]*>', page)
    assert box is not None and "checked" in box.group(0) and 'type="checkbox"' in box.group(0)
    assert "Also revoke every API token" in page


def test_a_checked_box_revokes_every_api_token(client, factory, logged_in):
    _, secret = factory.token(logged_in, name="laptop script")
    factory.token(logged_in, name="phone app")
    bob = factory.user("bob@example.com")
    factory.token(bob)

    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW, "confirm": NEW, "revoke_tokens": "y"},
    )

    assert response.status_code == 302
    assert _token_states(logged_in) == [True, True]
    assert _token_states(bob) == [False]
    assert client.get("/api/v1/notes", headers=bearer(secret)).status_code == 401
    assert _flashes(client) == [
        "Your password has been changed. Every other session has been logged out, and 2 API tokens were revoked."
    ]
    assert "Every API token revoked" in client.get("/account/").get_data(as_text=True)  # the audit log


def test_an_unchecked_box_keeps_the_api_tokens(client, factory, logged_in):
    _, secret = factory.token(logged_in)
    response = _change(client)  # a form posts nothing for an unchecked box
    assert response.status_code == 302
    assert _token_states(logged_in) == [False]
    assert client.get("/api/v1/notes", headers=bearer(secret)).status_code == 200
    assert _flashes(client) == ["Your password has been changed. Every other session has been logged out."]


def test_a_refused_change_revokes_no_token(client, factory, logged_in):
    factory.token(logged_in)
    response = client.post(
        "/account/password",
        data={"current_password": "not my password", "new_password": NEW, "confirm": NEW, "revoke_tokens": "y"},
    )
    assert response.status_code == 400
    assert _token_states(logged_in) == [False]
    # The box keeps what was sent when the form comes back with its error.
    box = re.search(r'<input[^>]*name="revoke_tokens"[^>]*>', response.get_data(as_text=True))
    assert box is not None and "checked" in box.group(0)
