"""Test apps: the tutorial's test dict, and a client whose requests start with an empty ``g``."""

from __future__ import annotations

import tempfile
from typing import Any

from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import create_app

TEST_CONFIG = {
    "TESTING": True,
    "SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:",
    "WTF_CSRF_ENABLED": False,
}


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
    # Each test app keeps attachment files in a directory of its own, never the instance folder.
    overrides.setdefault("ATTACHMENTS_DIR", tempfile.mkdtemp(prefix="notes-test-attachments-"))
    app = create_app({**TEST_CONFIG, **overrides})
    app.test_client_class = FreshRequestClient
    return app
