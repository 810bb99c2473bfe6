"""Shared fixtures; the helpers they use live in tests/helpers/.

``app`` and ``client`` are the flaskr tutorial's: an app built by
``create_app`` with the test dict on in-memory SQLite, with its schema. Each
pytest process builds it once and every test gets it back as new
(tests/helpers/shared_app.py). A test that must change the app itself (add a
route) asks for ``fresh_app``, which is the tutorial's fixture to the letter.

One thing every app in a process shares whatever the fixture: flask-smorest's
``Api`` (app/extensions.py) keeps the spec of the app built last, so the
OpenAPI document a test reads is that app's. Every test app has the same API
settings, so the document is the same; a test that changed them would need
to read the spec of the app it built.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tests.helpers.app import make_app
from tests.helpers.data import Factory
from tests.helpers.mail import SmtpCatcher
from tests.helpers.shared_app import as_new, built_once
from tests.helpers.twofactor import Authenticator
from tests.helpers.web import AuthActions

from app.accounts.mail import wait_for_deliveries
from app.models import User, db


@pytest.fixture(scope="session")
def _shared_app() -> Flask:
    return built_once()


@pytest.fixture
def app(_shared_app: Flask) -> Iterator[Flask]:
    with as_new(_shared_app) as app:
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


@pytest.fixture
def factory(app: Flask) -> Factory:
    return Factory()


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


@pytest.fixture(scope="session")
def _shared_csrf_app() -> Flask:
    return built_once(WTF_CSRF_ENABLED=True)


@pytest.fixture
def csrf_app(_shared_csrf_app: Flask) -> Iterator[Flask]:
    """A test app with CSRF protection on, as in dev and production."""
    with as_new(_shared_csrf_app) as app:
        yield app


@pytest.fixture(scope="session")
def _smtp_server() -> Iterator[SmtpCatcher]:
    catcher = SmtpCatcher().start()
    yield catcher
    catcher.stop()


@pytest.fixture
def smtp(app: Flask, _smtp_server: SmtpCatcher) -> Iterator[SmtpCatcher]:
    """A real SMTP server in this process that ``app`` sends its mail to; empty at the start of each test."""
    _smtp_server.clear()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_smtp_server.port)
    yield _smtp_server
    # Nothing sent by this test may land in the next one's inbox.
    wait_for_deliveries()
    _smtp_server.clear()


@pytest.fixture
def authenticator(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Authenticator:
    """An authenticator app whose clock the server's two-factor checks share (tests/helpers/twofactor.py)."""
    return Authenticator(monkeypatch)
