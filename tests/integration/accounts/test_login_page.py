"""The login page: one answer for every bad login, safe redirects after a
good one, and a fresh session each time."""

from __future__ import annotations

import re

import argon2
import pytest
from tests.helpers.data import PASSWORD

from app.accounts import service as accounts
from app.accounts.sessions import load_session_user

LOGIN = "/auth/login"
GENERIC = b"Invalid email or password."


def _flashes(response) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+">([^<]*)</p>', response.get_data(as_text=True))


def _set_cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def test_get_shows_the_form(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b'name="password"' in response.data and b'name="remember"' in response.data


def test_success_redirects_to_notes_and_logs_in(client, auth, user):
    response = auth.login()
    assert response.status_code == 302
    assert response.headers["Location"] == "/notes/"
    with client.session_transaction() as session:
        assert load_session_user(session["_user_id"]) is user
    assert client.get("/notes/").status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_answer(client, auth, user):
    wrong = auth.login(password="not the password")
    unknown = auth.login(email="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert GENERIC in wrong.data and GENERIC in unknown.data
    # The messages shown are exactly the same: nothing tells the two apart.
    assert _flashes(wrong) == _flashes(unknown) == [GENERIC.decode()]
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_incomplete_form_is_a_400_not_a_failed_login(client, user):
    response = client.post(LOGIN, data={"email": "alice@example.com"})
    assert response.status_code == 400
    assert b"This field is required." in response.data


def test_email_is_case_insensitive(client, auth, user):
    response = auth.login(email="  ALICE@Example.COM")
    assert response.status_code == 302


def test_user_stored_with_capitals_can_log_in_in_lower_case(client, auth, factory):
    factory.user("Mixed.Case@Example.com")
    assert auth.login(email="mixed.case@example.com").status_code == 302


def test_remember_me_sets_a_persistent_httponly_cookie(client, auth, user):
    response = auth.login(remember="y")
    remember = [c for c in _set_cookies(response) if c.startswith("remember_token=")]
    assert len(remember) == 1
    assert "Expires=" in remember[0] and "HttpOnly" in remember[0]


def test_without_remember_me_no_remember_cookie(client, auth, user):
    response = auth.login()
    assert response.status_code == 302
    assert not [c for c in _set_cookies(response) if c.startswith("remember_token=")]


@pytest.mark.parametrize("target", ["/notes/archive", "/notes/trash?cursor=abc", "/account/"])
def test_same_site_next_is_honoured(client, user, target):
    response = client.post(f"{LOGIN}?next={target}", data={"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == target


def test_next_in_the_form_body_is_honoured(client, auth, user):
    response = auth.login(next="/notes/archive")
    assert response.headers["Location"] == "/notes/archive"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/notes/\r\nSet-Cookie: x=1",
        "http:/evil.example",
    ],
)
def test_unsafe_next_falls_back_to_notes(client, auth, user, target):
    response = auth.login(next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/notes/"


def test_login_page_keeps_next_in_the_form_action(client, user):
    page = client.get(f"{LOGIN}?next=/notes/archive")
    assert b'action="/auth/login?next=/notes/archive"' in page.data
    # Submitting that form as a browser would lands on the page asked for.
    response = client.post(f"{LOGIN}?next=/notes/archive", data={"email": "alice@example.com", "password": PASSWORD})
    assert response.headers["Location"] == "/notes/archive"


def test_logged_in_user_visiting_login_goes_to_a_safe_next(client, logged_in):
    assert client.get(f"{LOGIN}?next=/notes/trash").headers["Location"] == "/notes/trash"
    assert client.get(f"{LOGIN}?next=https://evil.example/").headers["Location"] == "/notes/"


def test_session_is_renewed_at_login(client, auth, user):
    client.get(LOGIN)
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    assert auth.login().status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert load_session_user(session["_user_id"]) is user


def test_unknown_email_still_runs_the_password_hash(client, auth, user, monkeypatch):
    """The dummy-hash path: an unknown email costs an argon2 verification
    like a known one, so response time does not reveal who has an account."""
    seen_hashes: list[str | None] = []
    argon2_calls: list[str] = []
    real_verify_password = accounts.verify_password
    real_argon2_verify = argon2.PasswordHasher.verify

    def counting_verify_password(stored_hash, password):
        seen_hashes.append(stored_hash)
        return real_verify_password(stored_hash, password)

    def counting_argon2_verify(self, hash, password):
        argon2_calls.append(hash)
        return real_argon2_verify(self, hash, password)

    monkeypatch.setattr(accounts, "verify_password", counting_verify_password)
    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting_argon2_verify)

    assert auth.login(email="nobody@example.com").status_code == 401
    assert seen_hashes == [None]
    assert len(argon2_calls) == 1
    assert argon2_calls[0].startswith("$argon2id$")
    assert argon2_calls[0] != user.password_hash


def test_known_email_verifies_once_against_the_users_hash(client, auth, user, monkeypatch):
    seen_hashes: list[str | None] = []
    real = accounts.verify_password

    def counting(stored_hash, password):
        seen_hashes.append(stored_hash)
        return real(stored_hash, password)

    monkeypatch.setattr(accounts, "verify_password", counting)
    assert auth.login(password="wrong password").status_code == 401
    assert seen_hashes == [user.password_hash]
