"""The flaskr tutorial's own checks, which must keep passing unchanged.

The ``app`` fixture here is the tutorial's, word for word: a new app per
test with its own in-memory database (tests/conftest.py shares one app per
process instead, for speed; this file proves the factory still works the
tutorial's way).
"""

import pytest

from app import create_app
from app.models import Note, db


@pytest.fixture
def app():
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        db.create_all()
        yield app
        db.drop_all()


def test_note_builds_without_session_or_owner():
    note = Note(title="Hello", content="world")
    assert "Hello" in str(note)


def test_anonymous_notes_redirects_to_login(client):
    response = client.get("/notes/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_logged_in_notes_page(client, auth):
    auth.register()
    response = client.get("/notes/")
    assert response.status_code == 200
    assert b"Notes" in response.data


def test_create_note_form_fields(client, auth):
    auth.register()
    response = client.post("/notes/", data={"title": "Hello", "content": "world"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert b"Hello" in page.data and b"world" in page.data
