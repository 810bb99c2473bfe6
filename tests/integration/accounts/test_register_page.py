"""The registration page: who gets an account, and what a refused form says."""

from __future__ import annotations

import sqlalchemy as sa

from app.models import User, db

REGISTER = "/auth/register"
GOOD_PASSWORD = "a good password"


def _form(email: str = "new@example.com", password: str = GOOD_PASSWORD, confirm: str | None = None) -> dict:
    return {"email": email, "password": password, "confirm": password if confirm is None else confirm}


def _user_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def test_get_shows_the_form(client):
    response = client.get(REGISTER)
    assert response.status_code == 200
    assert b'name="email"' in response.data and b'name="confirm"' in response.data


def test_success_creates_the_user_logs_in_and_redirects_to_notes(client, app):
    response = client.post(REGISTER, data=_form(email="  New@Example.COM "))
    assert response.status_code == 302
    assert response.headers["Location"] == "/notes/"
    # Stored trimmed and lower-cased, so the case-insensitive rules hold.
    assert db.session.scalar(sa.select(User.email)) == "new@example.com"
    # Logged in: the notes list answers instead of redirecting to the login page.
    page = client.get("/notes/")
    assert page.status_code == 200
    assert b"Welcome to Notes!" in page.data


def test_duplicate_email_is_refused_without_a_second_user(client, user):
    response = client.post(REGISTER, data=_form(email="alice@example.com"))
    assert response.status_code == 400
    assert b"An account with this email already exists" in response.data
    assert _user_count() == 1


def test_duplicate_email_in_other_case_is_refused(client, user):
    response = client.post(REGISTER, data=_form(email="ALICE@Example.Com"))
    assert response.status_code == 400
    assert b"An account with this email already exists" in response.data
    assert _user_count() == 1
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_invalid_email_is_refused(client):
    response = client.post(REGISTER, data=_form(email="not-an-email"))
    assert response.status_code == 400
    assert b"Enter a valid email address" in response.data
    assert _user_count() == 0


def test_short_password_is_refused(client):
    response = client.post(REGISTER, data=_form(password="x" * 7))
    assert response.status_code == 400
    assert b"Use 8 to 128 characters." in response.data
    assert _user_count() == 0


def test_long_password_is_refused(client):
    response = client.post(REGISTER, data=_form(password="x" * 129))
    assert response.status_code == 400
    assert b"Use 8 to 128 characters." in response.data
    assert _user_count() == 0


def test_passwords_of_8_and_128_characters_are_accepted(client, auth):
    assert client.post(REGISTER, data=_form(email="eight@example.com", password="plum-tea")).status_code == 302
    auth.logout()
    assert client.post(REGISTER, data=_form(email="max@example.com", password="y" * 128)).status_code == 302
    auth.logout()
    # Both can log in with exactly the password they chose.
    assert auth.login("eight@example.com", "plum-tea").status_code == 302
    auth.logout()
    assert auth.login("max@example.com", "y" * 128).status_code == 302


def test_mismatched_confirmation_is_refused(client):
    response = client.post(REGISTER, data=_form(password="a good password", confirm="another password"))
    assert response.status_code == 400
    assert b"The passwords do not match." in response.data
    assert _user_count() == 0


def test_refused_form_keeps_the_email_but_not_the_password(client):
    response = client.post(REGISTER, data=_form(email="kept@example.com", password="short"))
    assert response.status_code == 400
    assert b'value="kept@example.com"' in response.data
    assert b"short" not in response.data.split(b"<main", 1)[1]


def test_logged_in_user_visiting_register_is_redirected(client, logged_in):
    response = client.get(REGISTER)
    assert response.status_code == 302
    assert response.headers["Location"] == "/notes/"
    # A POST from a logged-in session creates nothing either.
    assert client.post(REGISTER, data=_form(email="second@example.com")).status_code == 302
    assert _user_count() == 1
