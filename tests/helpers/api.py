"""Checks and look-ups for the JSON API tests: problem+json, rows as stored, ETags."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.models import ApiToken, Note, db

from .data import PASSWORD

API = "/api/v1"


def with_password(body: Any) -> Any:
    """A token-creation body with alice's password, which the API requires."""
    return {**body, "password": PASSWORD} if isinstance(body, dict) else body


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    """Check ``response`` is an RFC 9457 problem with ``status``; return its body.

    Fails when the status differs, the body is not problem+json, a field is
    missing or empty, or an HTML page leaked into the API.
    """
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert b"<html" not in response.data.lower()
    body = response.get_json()
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def count(model: type[Any]) -> int:
    """Rows of ``model`` in the database, bypassing the session's cache."""
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def fresh_note(note_id: int) -> Note | None:
    """The note as stored now, not as this test's session last saw it."""
    db.session.expire_all()
    return db.session.get(Note, note_id)


def fresh_token(token_id: int) -> ApiToken | None:
    db.session.expire_all()
    return db.session.get(ApiToken, token_id)


def etag(note: Note) -> str:
    return f'"{note.id}-{note.version}"'


def login(client: FlaskClient, email: str, password: str) -> None:
    """Log ``client`` in through the real form (CSRF off)."""
    response = client.post("/auth/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
