"""Small helpers shared by the e2e tests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient
from tests.conftest import PASSWORD
from werkzeug.test import TestResponse

from app.models import Note, db

API = "/api/v1"


def count(model: type[Any], *where: Any) -> int:
    """Rows of ``model`` (matching ``where``) as stored now, not as cached."""
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def stored_note(note_id: int) -> Note | None:
    """The note as the database holds it now, or None when it is gone."""
    db.session.expire_all()
    return db.session.get(Note, note_id)


def etag(note_id: int, version: int) -> str:
    return f'"{note_id}-{version}"'


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    """Check ``response`` is an RFC 9457 problem with ``status``; return its body."""
    assert response.status_code == status, text(response)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    """Log ``client`` in through the real form; fail unless it redirects."""
    response = client.post("/auth/login", data={"email": email, "password": password})
    assert response.status_code == 302, text(response)
