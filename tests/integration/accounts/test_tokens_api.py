"""/api/v1/tokens: secrets shown once and stored hashed, scopes, expiry, revocation."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from tests.helpers.api import API, assert_problem, count, fresh_note, fresh_token, with_password
from tests.helpers.web import bearer

from app.models import ApiToken, Note, db


def test_create_shows_the_secret_once_and_stores_only_its_sha256(client, headers, logged_in):
    response = client.post(f"{API}/tokens", json=with_password({"name": " laptop ", "scope": "read"}))

    assert response.status_code == 201
    body = response.get_json()
    secret = body["token"]
    assert secret.startswith("nt_") and len(secret) >= 40
    assert body["prefix"] == secret[: len(body["prefix"])] and len(body["prefix"]) > len("nt_")
    assert (body["name"], body["scope"], body["revoked"], body["expires_at"]) == ("laptop", "read", False, None)
    assert response.headers["Location"].endswith(f"{API}/tokens/{body['id']}")

    stored = fresh_token(body["id"])
    assert stored is not None and stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    rows = db.session.execute(sa.text("SELECT * FROM api_tokens")).all()
    assert not any(secret in str(value) for row in rows for value in row)


def test_a_new_token_works_at_once(client, headers, logged_in):
    secret = client.post(f"{API}/tokens", json=with_password({"name": "new"})).get_json()["token"]
    assert client.get(f"{API}/notes", headers=bearer(secret)).status_code == 200


def test_list_and_get_never_include_a_secret(client, headers, alice_secret, logged_in):
    created = client.post(f"{API}/tokens", json=with_password({"name": "second"})).get_json()

    listing = client.get(f"{API}/tokens", headers=headers)
    assert listing.status_code == 200
    items = listing.get_json()["items"]
    assert sorted(t["name"] for t in items) == ["alice cli", "second"]
    single = client.get(f"{API}/tokens/{created['id']}", headers=headers)
    assert single.get_json()["name"] == "second"
    for response in (listing, single):
        text = response.get_data(as_text=True)
        assert created["token"] not in text and alice_secret not in text
        assert '"token"' not in text and "token_hash" not in text


def test_revoked_token_is_refused_at_once(client, headers, factory, user):
    token, secret = factory.token(user, name="leaked")
    assert client.get(f"{API}/notes", headers=bearer(secret)).status_code == 200

    assert client.delete(f"{API}/tokens/{token.id}", headers=headers).status_code == 204

    body = assert_problem(client.get(f"{API}/notes", headers=bearer(secret)), 401)
    assert "revoked" in body["detail"]
    stored = fresh_token(token.id)
    assert stored is not None and stored.revoked is True
    assert client.get(f"{API}/tokens/{token.id}", headers=headers).get_json()["revoked"] is True


def test_a_token_can_revoke_itself(client, factory, user):
    token, secret = factory.token(user)
    assert client.delete(f"{API}/tokens/{token.id}", headers=bearer(secret)).status_code == 204
    assert_problem(client.get(f"{API}/tokens", headers=bearer(secret)), 401)


def test_expired_token_is_401(client, factory, user):
    token, secret = factory.token(user, expires_in_days=1)
    assert client.get(f"{API}/notes", headers=bearer(secret)).status_code == 200
    token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    assert_problem(client.get(f"{API}/notes", headers=bearer(secret)), 401)


def test_read_token_cannot_change_anything(client, factory, user, subtests):
    note = factory.note(user, title="Safe")
    trashed = factory.note(user, title="Binned", deleted_at=datetime(2020, 1, 1, tzinfo=UTC))
    token, secret = factory.token(user, scope="read")
    headers = {**bearer(secret), "If-Match": "*"}
    for method, path, body in [
        ("post", "/notes", {"title": "x"}),
        ("patch", "/notes/{note}", {"title": "x"}),
        ("delete", "/notes/{note}", None),
        ("post", "/notes/{trashed}/restore", None),
        ("delete", "/trash/{trashed}", None),
        ("post", "/tokens", {"name": "escalate", "scope": "write"}),
        ("delete", "/tokens/{token}", None),
    ]:
        with subtests.test(method=method, path=path, body=body):
            url = API + path.format(note=note.id, trashed=trashed.id, token=token.id)

            problem = assert_problem(getattr(client, method)(url, json=body, headers=headers), 403)

            assert "read-only" in problem["detail"]
            assert count(Note) == 2 and count(ApiToken) == 1
            kept, binned, tok = fresh_note(note.id), fresh_note(trashed.id), fresh_token(token.id)
            assert kept is not None and (kept.title, kept.version, kept.deleted_at) == ("Safe", 1, None)
            assert binned is not None and binned.deleted_at is not None
            assert tok is not None and tok.revoked is False


def test_read_token_can_read(client, factory, user):
    note = factory.note(user, title="Readable")
    _, secret = factory.token(user, scope="read")
    assert client.get(f"{API}/notes", headers=bearer(secret)).get_json()["items"][0]["title"] == "Readable"
    assert client.get(f"{API}/notes/{note.id}", headers=bearer(secret)).status_code == 200
    assert client.get(f"{API}/tokens", headers=bearer(secret)).status_code == 200


def test_create_validation_is_422_and_creates_nothing(client, headers, subtests, logged_in):
    for body, field in [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"name": "nul\x00"}, "name"),
        ({"name": 5}, "name"),
        ({"name": "ok", "scope": "owner"}, "scope"),
        ({"name": "ok", "expires_in_days": 0}, "expires_in_days"),
        ({"name": "ok", "expires_in_days": 3651}, "expires_in_days"),
        ({"name": "ok", "expires_in_days": "soon"}, "expires_in_days"),
        ({"name": "ok", "secret": "nt_mine"}, "secret"),
    ]:
        with subtests.test(body=body, field=field):
            problem = assert_problem(client.post(f"{API}/tokens", json=with_password(body)), 422)
            assert field in problem["errors"]
            assert count(ApiToken) == 1  # only alice's own


def test_an_admin_scope_for_a_non_administrator_is_403_and_creates_nothing(client, headers, logged_in):
    problem = assert_problem(client.post(f"{API}/tokens", json=with_password({"name": "ok", "scope": "admin"})), 403)
    assert "Only administrators" in problem["detail"]
    assert count(ApiToken) == 1  # only alice's own


def test_expires_in_days_at_its_bounds(client, headers, subtests, logged_in):
    for days in [1, 3650]:
        with subtests.test(days=days):
            before = datetime.now(UTC)
            body = client.post(f"{API}/tokens", json=with_password({"name": "t", "expires_in_days": days})).get_json()
            expires = datetime.fromisoformat(body["expires_at"])
            assert before + timedelta(days=days) <= expires <= datetime.now(UTC) + timedelta(days=days)


def test_token_without_expiry(client, headers, logged_in):
    body = client.post(f"{API}/tokens", json=with_password({"name": "t", "expires_in_days": None})).get_json()
    assert body["expires_at"] is None


def test_last_used_at_is_recorded_on_use(client, headers, factory, user):
    token, secret = factory.token(user, name="fresh")
    assert token.last_used_at is None
    before = datetime.now(UTC)
    client.get(f"{API}/notes", headers=bearer(secret))
    stored = fresh_token(token.id)
    assert stored is not None and stored.last_used_at is not None
    assert before <= stored.last_used_at <= datetime.now(UTC)
    listed = {t["name"]: t for t in client.get(f"{API}/tokens", headers=headers).get_json()["items"]}
    assert listed["fresh"]["last_used_at"] is not None


def test_unknown_token_id_is_404(client, headers):
    assert_problem(client.get(f"{API}/tokens/999", headers=headers), 404)
    assert_problem(client.delete(f"{API}/tokens/999", headers=headers), 404)
