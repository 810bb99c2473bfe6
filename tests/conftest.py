"""Shared fixtures.

``app`` and ``client`` are the flaskr tutorial's: an app built by
``create_app`` with the test dict on in-memory SQLite, with its schema.
Building an app costs ~20 ms (URL rules, the OpenAPI document) and compiling
its templates more, so each pytest process builds it once and every test
gets it back as new: its configuration restored, every table emptied. A test
that must change the app itself (add a route) asks for ``fresh_app``, which
is the tutorial's fixture to the letter.

One thing every app in a process shares whatever the fixture: flask-smorest's
``Api`` (app/extensions.py) keeps the spec of the app built last, so the
OpenAPI document a test reads is that app's. Every test app has the same API
settings, so the document is the same; a test that changed them would need
to read the spec of the app it built.
"""

from __future__ import annotations

import copy
import itertools
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
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


def _empty_tables() -> None:
    """Delete every row, children first, so ids and the FTS5 index start over."""
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
        # The FTS5 triggers already removed each row; 'delete-all' also clears
        # anything a test wrote to the index by hand.
        connection.exec_driver_sql("INSERT INTO notes_fts(notes_fts) VALUES ('delete-all')")


class _Baseline:
    """What a shared app looked like when it was built, to hand it back that way.

    The access logger is in it because it is process-wide: any ``create_app``
    a test runs (DevConfig turns it on) would otherwise change later tests.
    """

    def __init__(self, app: Flask) -> None:
        self.config = copy.deepcopy(dict(app.config))
        self.access_log = (list(_ACCESS_LOG.handlers), _ACCESS_LOG.level, _ACCESS_LOG.propagate)

    def restore(self, app: Flask) -> None:
        app.config.clear()
        app.config.update(copy.deepcopy(self.config))
        handlers, level, propagate = self.access_log
        _ACCESS_LOG.handlers[:] = handlers
        _ACCESS_LOG.setLevel(level)
        _ACCESS_LOG.propagate = propagate


_ACCESS_LOG = logging.getLogger("notes.access")
_baselines: dict[Flask, _Baseline] = {}


@contextmanager
def _as_new(app: Flask) -> Iterator[Flask]:
    """Lend the shared ``app`` to one test and hand it back as it was built.

    Tests may change ``app.config`` (page sizes, limits, TESTING, even values
    inside it) and build other apps; all of that is undone, and the rows the
    test wrote are deleted, whether the test passed or not.
    """
    context = app.app_context()
    context.push()
    try:
        yield app
    finally:
        try:
            db.session.remove()
            _empty_tables()
        finally:
            context.pop()
            _baselines[app].restore(app)


def _built_once(**overrides: Any) -> Flask:
    app = make_app(**overrides)
    with app.app_context():
        db.create_all()
    # A route added by one test would outlive it; Flask refuses new routes
    # after an app's first request, so make that true from the start.
    app._got_first_request = True
    _baselines[app] = _Baseline(app)
    return app


@pytest.fixture(scope="session")
def _shared_app() -> Flask:
    return _built_once()


@pytest.fixture
def app(_shared_app: Flask) -> Iterator[Flask]:
    with _as_new(_shared_app) as app:
        yield app


@pytest.fixture
def fresh_app() -> Iterator[Flask]:
    """An app of its own (the tutorial's fixture): for tests that add routes to it."""
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


@pytest.fixture(scope="session")
def _shared_csrf_app() -> Flask:
    return _built_once(WTF_CSRF_ENABLED=True)


@pytest.fixture
def csrf_app(_shared_csrf_app: Flask) -> Iterator[Flask]:
    """A test app with CSRF protection on, as in dev and production."""
    with _as_new(_shared_csrf_app) as app:
        yield app


def csrf_token_from(client: FlaskClient, url: str) -> str:
    """The CSRF token the page at ``url`` carries in its meta tag."""
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert match, f"{url} carries no csrf-token meta tag"
    return match.group(1)
