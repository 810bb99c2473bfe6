"""Fixtures for tier-1 tests that need more than the shared in-memory app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from app import create_app
from app.models import db


@pytest.fixture
def file_app(tmp_path) -> Iterator[Flask]:
    """An app on a SQLite file with no tables yet.

    A file rather than ``:memory:`` so that separate connections (a second
    session, alembic) see the same database instead of sharing one connection.
    """
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'notes.db'}"})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
