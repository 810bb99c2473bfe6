"""PostgreSQL text cannot hold NUL (U+0000); SQLite can. Every field that
reaches the database must refuse it as bad input (400/422), never let the
driver fail with a 500, and write nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from tests.helpers.data import PASSWORD, Factory
from tests.helpers.e2e import API, count, login, text
from tests.helpers.web import bearer

from app.models import ApiToken, Note, User

pytestmark = pytest.mark.e2e

NUL = "\x00"


@pytest.fixture
def alice(factory: Factory) -> User:
    return factory.user("alice@example.com")


@pytest.fixture
def alice_secret(factory: Factory, alice: User) -> str:
    return factory.token(alice)[1]


def _rows() -> tuple[int, int, int]:
    return count(User), count(Note), count(ApiToken)


def test_login_form_refuses_a_nul_email(app, client: FlaskClient, alice: User) -> None:
    response = client.post("/auth/login", data={"email": f"alice@example.com{NUL}", "password": PASSWORD})
    assert response.status_code == 400, text(response)
    assert "Remove the NUL character" in text(response)
    assert client.get("/notes/").status_code == 302  # still logged out


def test_login_form_treats_a_nul_password_as_wrong(app, client: FlaskClient, alice: User) -> None:
    # Passwords are only ever hashed, so NUL is harmless there: just not alice's.
    response = client.post("/auth/login", data={"email": "alice@example.com", "password": f"{PASSWORD}{NUL}"})
    assert response.status_code == 401, text(response)


def test_register_form(app, client: FlaskClient) -> None:
    before = _rows()
    data = {"email": f"new{NUL}@example.com", "password": PASSWORD, "confirm": PASSWORD}
    response = client.post("/auth/register", data=data)
    assert response.status_code == 400, text(response)
    assert _rows() == before


@pytest.mark.parametrize("field", ["title", "content"])
def test_note_forms(app, client: FlaskClient, factory: Factory, alice: User, field: str) -> None:
    note = factory.note(alice, title="Clean", content="clean")
    login(client, "alice@example.com")
    before = _rows()
    data = {"title": "Title", "content": "Content", field: f"bad{NUL}value"}

    created = client.post("/notes/", data=data)
    edited = client.post(f"/notes/{note.id}/edit", data={**data, "version": str(note.version)})

    for response in (created, edited):
        assert response.status_code == 400, text(response)
        assert "NUL" in text(response)
    assert _rows() == before
    stored = count(Note, Note.title == "Clean", Note.content == "clean", Note.version == note.version)
    assert stored == 1


def test_token_form(app, client: FlaskClient, alice: User) -> None:
    login(client, "alice@example.com")
    before = _rows()
    response = client.post("/account/tokens", data={"name": f"laptop{NUL}", "scope": "write", "password": PASSWORD})
    assert response.status_code == 400, text(response)
    assert "Remove the NUL character" in text(response)
    assert _rows() == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/notes", {"title": f"a{NUL}b"}),
        ("post", "/notes", {"title": "ok", "content": f"a{NUL}b"}),
        ("patch", "/notes/{id}", {"title": f"a{NUL}b"}),
        ("patch", "/notes/{id}", {"content": f"a{NUL}b"}),
        ("post", "/tokens", {"name": f"a{NUL}b"}),
    ],
)
def test_api_bodies(
    app, client: FlaskClient, factory: Factory, alice: User, alice_secret: str, method: str, path: str, body: Any
) -> None:
    note = factory.note(alice, title="Clean", content="clean")
    before = _rows()
    response = getattr(client, method)(
        API + path.format(id=note.id), json=body, headers={**bearer(alice_secret), "If-Match": "*"}
    )
    assert response.status_code == 422, text(response)
    field = next(key for key, value in body.items() if NUL in value)
    assert "NUL" in str(response.get_json()["errors"][field])
    assert _rows() == before
    assert count(Note, Note.id == note.id, Note.title == "Clean", Note.content == "clean") == 1


@pytest.mark.parametrize("query", ["cursor=%00", "cursor=abc%00def", "pinned=%00"])
def test_api_query_arguments(app, client: FlaskClient, alice_secret: str, query: str) -> None:
    response = client.get(f"{API}/notes?{query}", headers=bearer(alice_secret))
    assert response.status_code in (400, 422), text(response)


def test_bearer_token_with_nul_is_just_unknown(app, client: FlaskClient, alice_secret: str) -> None:
    response = client.get(f"{API}/notes", headers=bearer(alice_secret[:10] + NUL + alice_secret[10:]))
    assert response.status_code == 401, text(response)
