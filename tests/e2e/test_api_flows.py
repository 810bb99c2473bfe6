"""Tier 2's main API flows again, on PostgreSQL: what a script with a token does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tests.helpers.data import PASSWORD, Factory
from tests.helpers.e2e import API, assert_problem, count, etag, login, stored_note
from tests.helpers.web import bearer

from app.models import ApiToken, Note, User, db, utcnow

pytestmark = pytest.mark.e2e


@pytest.fixture
def secret(client: FlaskClient, logged_in: User) -> str:
    """A write token alice makes for herself through the API, with her session."""
    response = client.post(f"{API}/tokens", json={"name": "laptop", "scope": "write", "password": PASSWORD})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["token"].startswith("nt_") and body["name"] == "laptop"
    return body["token"]


def test_token_lifecycle(app, client: FlaskClient, logged_in: User, secret: str) -> None:
    listed = client.get(f"{API}/tokens", headers=bearer(secret)).get_json()["items"]
    assert [t["name"] for t in listed] == ["laptop"]
    assert "token" not in listed[0] and "token_hash" not in listed[0]  # the secret is shown once
    token_id = listed[0]["id"]
    assert client.get(f"{API}/tokens/{token_id}", headers=bearer(secret)).get_json()["revoked"] is False

    # A token cannot mint tokens; the session (with the password) can.
    assert_problem(client.post(f"{API}/tokens", json={"name": "x", "password": PASSWORD}, headers=bearer(secret)), 403)
    read_only = client.post(f"{API}/tokens", json={"name": "reader", "scope": "read", "password": PASSWORD})
    reader = read_only.get_json()["token"]
    assert client.get(f"{API}/notes", headers=bearer(reader)).status_code == 200
    assert_problem(client.post(f"{API}/notes", json={"title": "no"}, headers=bearer(reader)), 403)
    assert count(Note) == 0

    assert client.delete(f"{API}/tokens/{token_id}", headers=bearer(secret)).status_code == 204
    assert_problem(client.get(f"{API}/notes", headers=bearer(secret)), 401)
    assert count(ApiToken, ApiToken.id == token_id, ApiToken.revoked.is_(True)) == 1


def test_expired_token_is_refused(app, client: FlaskClient, factory: Factory, user: User) -> None:
    token, secret = factory.token(user, expires_in_days=1)
    assert client.get(f"{API}/notes", headers=bearer(secret)).status_code == 200
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert_problem(client.get(f"{API}/notes", headers=bearer(secret)), 401)


def test_note_crud_with_etags(app, client: FlaskClient, secret: str) -> None:
    auth = bearer(secret)
    created = client.post(f"{API}/notes", json={"title": "API note", "content": "v1"}, headers=auth)
    assert created.status_code == 201
    note_id = created.get_json()["id"]
    assert created.headers["ETag"] == etag(note_id, 1)
    assert created.headers["Location"].endswith(f"{API}/notes/{note_id}")

    read = client.get(created.headers["Location"], headers=auth)
    assert read.status_code == 200 and read.get_json()["content"] == "v1"
    assert client.get(f"{API}/notes/{note_id}", headers={**auth, "If-None-Match": etag(note_id, 1)}).status_code == 304

    assert_problem(client.patch(f"{API}/notes/{note_id}", json={"content": "v2"}, headers=auth), 428)
    patched = client.patch(
        f"{API}/notes/{note_id}", json={"content": "v2", "pinned": True}, headers={**auth, "If-Match": etag(note_id, 1)}
    )
    assert patched.status_code == 200
    assert patched.headers["ETag"] == etag(note_id, 2)
    assert patched.get_json()["pinned"] is True

    stale = client.patch(
        f"{API}/notes/{note_id}", json={"content": "v3"}, headers={**auth, "If-Match": etag(note_id, 1)}
    )
    assert "If-Match" in assert_problem(stale, 412)["detail"]
    note = stored_note(note_id)
    assert note is not None and note.content == "v2" and note.version == 2

    assert client.delete(f"{API}/notes/{note_id}", headers=auth).status_code == 204
    trash = client.get(f"{API}/notes?trashed=true", headers=auth).get_json()["items"]
    assert [n["id"] for n in trash] == [note_id] and trash[0]["trashed"] is True
    assert client.get(f"{API}/notes", headers=auth).get_json()["items"] == []
    assert_problem(client.patch(f"{API}/notes/{note_id}", json={"title": "x"}, headers={**auth, "If-Match": "*"}), 404)

    restored = client.post(f"{API}/notes/{note_id}/restore", headers=auth)
    assert restored.status_code == 200 and restored.get_json()["trashed"] is False
    assert_problem(client.post(f"{API}/notes/{note_id}/restore", headers=auth), 409)
    assert_problem(client.delete(f"{API}/trash/{note_id}", headers=auth), 409)
    assert stored_note(note_id) is not None

    client.delete(f"{API}/notes/{note_id}", headers=auth)
    assert client.delete(f"{API}/trash/{note_id}", headers=auth).status_code == 204
    assert stored_note(note_id) is None
    assert_problem(client.get(f"{API}/notes/{note_id}", headers=auth), 404)


def test_cursor_pagination_visits_every_note_once_in_order(app, client: FlaskClient, factory: Factory) -> None:
    user = factory.user()
    _, secret = factory.token(user)
    same_moment = utcnow() - timedelta(hours=1)
    notes = [
        # Several share updated_at exactly, so page boundaries fall inside a
        # tie that only the id can break; a few are pinned.
        factory.note(user, title=f"n{i}", pinned=i % 7 == 0, updated_at=same_moment if i % 3 else utcnow())
        for i in range(23)
    ]
    factory.note(user, title="archived", archived=True)
    factory.note(factory.user(), title="someone else's")
    expected = [n.id for n in sorted(notes, key=lambda n: (n.pinned, n.updated_at, n.id), reverse=True)]

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        query = f"{API}/notes?limit=5" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(query, headers=bearer(secret)).get_json()
        assert len(body["items"]) <= 5
        seen += [n["id"] for n in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "pagination does not end"

    assert seen == expected
    assert pages == 5

    assert_problem(client.get(f"{API}/notes?cursor=not-a-cursor", headers=bearer(secret)), 400)
    assert_problem(client.get(f"{API}/notes?limit=101", headers=bearer(secret)), 422)


def test_another_users_note_is_a_404_through_the_api(app: Flask, client: FlaskClient, factory: Factory) -> None:
    alice, bob = factory.user("alice@example.com"), factory.user("bob@example.com")
    note = factory.note(alice, title="Private", content="secret")
    trashed = factory.note(alice, title="Binned", deleted_at=utcnow())
    note_id, trashed_id = note.id, trashed.id
    _, bob_secret = factory.token(bob)
    auth = {**bearer(bob_secret), "If-Match": "*"}

    for response in (
        client.get(f"{API}/notes/{note_id}", headers=auth),
        client.patch(f"{API}/notes/{note_id}", json={"title": "Mine"}, headers=auth),
        client.delete(f"{API}/notes/{note_id}", headers=auth),
        client.post(f"{API}/notes/{trashed_id}/restore", headers=auth),
        client.delete(f"{API}/trash/{trashed_id}", headers=auth),
    ):
        assert_problem(response, 404)
    assert client.get(f"{API}/notes?trashed=true", headers=auth).get_json()["items"] == []

    alice_token, _ = factory.token(alice)
    assert_problem(client.get(f"{API}/tokens/{alice_token.id}", headers=auth), 404)
    assert_problem(client.delete(f"{API}/tokens/{alice_token.id}", headers=auth), 404)

    stored = stored_note(note_id)
    assert stored is not None and (stored.title, stored.deleted_at, stored.version) == ("Private", None, 1)
    assert stored_note(trashed_id) is not None
    assert count(ApiToken, ApiToken.id == alice_token.id, ApiToken.revoked.is_(False)) == 1

    # The same through bob's browser session.
    browser = app.test_client()
    login(browser, "bob@example.com")
    assert_problem(browser.get(f"{API}/notes/{note_id}"), 404)
