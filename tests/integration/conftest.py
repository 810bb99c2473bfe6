"""Tier 2 fixtures: alice's API token, for tests of the JSON API in every domain.

Everything runs through ``app.test_client()`` on the in-memory SQLite
database the root conftest lends each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from tests.helpers.app import make_app
from tests.helpers.data import Factory
from tests.helpers.web import bearer

from app.models import User, db


@pytest.fixture
def alice_secret(factory: Factory, user: User) -> str:
    """The secret of a write-scope token belonging to alice."""
    _, secret = factory.token(user, name="alice cli")
    return secret


@pytest.fixture
def headers(alice_secret: str) -> dict[str, str]:
    """Authorization headers acting as alice."""
    return bearer(alice_secret)


@pytest.fixture
def file_app(tmp_path: Path) -> Iterator[Flask]:
    """A test app on a SQLite file, waiting at most 50 ms for another writer's lock."""
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'notes.db'}", SQLITE_BUSY_TIMEOUT_MS=50)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()
