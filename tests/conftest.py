"""Shared fixtures. ``app`` and ``client`` follow the flaskr tutorial exactly:
the factory with a test dict, a fresh in-memory database per test."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import create_app
from app.models import ApiToken, Note, User, db
from app.passwords import hash_password
from app.tokens import create_token

TEST_CONFIG = {
    "TESTING": True,
    "SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:",
    "WTF_CSRF_ENABLED": False,
}
PASSWORD = "correct horse battery"


class FreshRequestClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``.

    The ``app`` fixture keeps an app context open so tests can use
    ``db.session``; Flask reuses that context for test requests, so without
    this ``g`` would carry Flask-Login's cached user and the CSRF token from
    one request (or one client) to the next, which never happens in production.
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        if has_app_context():
            state = g._get_current_object()
            for name in list(vars(state)):
                delattr(state, name)
        return super().open(*args, **kwargs)


def make_app(**overrides: Any) -> Flask:
    """A test app (the tutorial's test dict plus ``overrides``) with the fresh-``g`` client."""
    app = create_app({**TEST_CONFIG, **overrides})
    app.test_client_class = FreshRequestClient
    return app


@pytest.fixture
def app() -> Iterator[Flask]:
    app = make_app()
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


_seq = itertools.count(1)


class Factory:
    """Builds committed rows with sensible defaults; override any field."""

    def user(self, email: str | None = None, password: str = PASSWORD) -> User:
        user = User(email=email or f"user{next(_seq)}@example.com", password_hash=hash_password(password))
        db.session.add(user)
        db.session.commit()
        return user

    def note(self, owner: User, **fields: Any) -> Note:
        fields.setdefault("title", f"Note {next(_seq)}")
        fields.setdefault("content", "Some *markdown* text.")
        note = Note(owner=owner, **fields)
        db.session.add(note)
        db.session.commit()
        return note

    def token(self, owner: User, scope: str = "write", **kwargs: Any) -> tuple[ApiToken, str]:
        return create_token(owner, kwargs.pop("name", "test token"), scope, kwargs.pop("expires_in_days", None))


@pytest.fixture
def factory(app: Flask) -> Factory:
    return Factory()


class AuthActions:
    """Log a test client in and out through the real forms."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def register(self, email: str = "alice@example.com", password: str = PASSWORD):  # type: ignore[no-untyped-def]
        return self._client.post("/auth/register", data={"email": email, "password": password, "confirm": password})

    def login(self, email: str = "alice@example.com", password: str = PASSWORD, **extra: Any):  # type: ignore[no-untyped-def]
        return self._client.post("/auth/login", data={"email": email, "password": password, **extra})

    def logout(self):  # type: ignore[no-untyped-def]
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def user(factory: Factory) -> User:
    return factory.user("alice@example.com")


@pytest.fixture
def logged_in(client: FlaskClient, auth: AuthActions, user: User) -> User:
    """``client`` logged in as alice (the ``user`` fixture)."""
    response = auth.login()
    assert response.status_code == 302
    return user


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def csrf_app() -> Iterator[Flask]:
    """A test app with CSRF protection on, as in dev and production."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()


def csrf_token_from(client: FlaskClient, url: str) -> str:
    """The CSRF token the page at ``url`` carries in its meta tag."""
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert match, f"{url} carries no csrf-token meta tag"
    return match.group(1)
