"""Deleting an account removes the user with every note and token."""

from __future__ import annotations

import sqlalchemy as sa
from tests.helpers.data import PASSWORD

from app.models import ApiToken, Note, User, db


def _count(model, owner_id: int | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(model)
    if owner_id is not None:
        column = model.id if model is User else model.owner_id
        query = query.where(column == owner_id)
    return db.session.scalar(query)


def _populate(factory, user):
    for _ in range(3):
        factory.note(user)
    factory.note(user, archived=True)
    factory.token(user)
    factory.token(user, scope="read")
    bob = factory.user("bob@example.com")
    factory.note(bob)
    factory.token(bob)
    return bob


def test_wrong_password_deletes_nothing(client, logged_in, factory):
    _populate(factory, logged_in)
    response = client.post("/account/delete", data={"password": "not my password"})
    assert response.status_code == 400
    assert b"The password is not correct; your account was not deleted." in response.data
    assert (_count(User), _count(Note), _count(ApiToken)) == (2, 5, 3)
    assert client.get("/notes/").status_code == 200


def test_empty_password_deletes_nothing(client, logged_in):
    response = client.post("/account/delete", data={"password": ""})
    assert response.status_code == 400
    assert b"This field is required." in response.data
    assert _count(User) == 1


def test_right_password_deletes_user_notes_and_tokens_and_logs_out(client, logged_in, factory):
    bob = _populate(factory, logged_in)
    alice_id, bob_id = logged_in.id, bob.id
    response = client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/register"

    db.session.expire_all()
    assert _count(User, alice_id) == 0
    assert _count(Note, alice_id) == 0
    assert _count(ApiToken, alice_id) == 0
    # Bob's account is untouched.
    assert (_count(User, bob_id), _count(Note, bob_id), _count(ApiToken, bob_id)) == (1, 1, 1)

    page = client.get("/auth/register")
    assert b"Your account and all its notes have been deleted." in page.data
    assert client.get("/notes/").status_code == 302


def test_deleting_a_remembered_account_clears_the_remember_cookie(client, auth, user):
    """Regression: the remember cookie outlived the account. SQLite reuses
    the highest row id, so the next account to register could be opened
    with the deleted account's cookie."""
    auth.login(remember="y")
    response = client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 302
    assert client.get_cookie("remember_token") is None

    newcomer = client.application.test_client()
    newcomer.post("/auth/register", data={"email": "new@example.com", "password": PASSWORD, "confirm": PASSWORD})
    assert client.get("/notes/").status_code == 302


def test_guessing_the_password_is_throttled_and_deletes_nothing(app, client, logged_in):
    """A stolen session cannot guess the password here faster than at the login form."""
    app.config["LOGIN_MAX_FAILURES_PER_DEVICE"] = 3
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP"] = 3
    for _ in range(3):
        assert client.post("/account/delete", data={"password": "a wrong guess"}).status_code == 400
    response = client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert db.session.get(User, logged_in.id) is not None
