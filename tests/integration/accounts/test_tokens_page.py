"""API tokens on the account page: the secret is shown once and stored only
as a hash; revoking works on one's own tokens only."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.helpers.data import PASSWORD
from tests.helpers.web import bearer

from app.models import ApiToken, db, utcnow

NEW_SECRET = re.compile(r'<code id="new-token">(nt_[A-Za-z0-9_-]+)</code>')


def _tokens() -> list[ApiToken]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ApiToken)))


def _create(client, **fields):
    data = {"name": "laptop", "scope": "read", "expires_in_days": "", "password": PASSWORD}
    data.update(fields)
    return client.post("/account/tokens", data=data)


def test_settings_page_lists_no_tokens_at_first(client, logged_in):
    response = client.get("/account/")
    assert response.status_code == 200
    assert b"Signed in as alice@example.com" in response.data
    assert b"No tokens yet." in response.data


def test_create_shows_the_secret_once_and_stores_only_its_hash(client, logged_in):
    response = _create(client, name="laptop", scope="read")
    assert response.status_code == 201
    match = NEW_SECRET.search(response.get_data(as_text=True))
    assert match, "the new secret is shown on the page"
    secret = match.group(1)

    [token] = _tokens()
    assert (token.owner_id, token.name, token.scope, token.revoked) == (logged_in.id, "laptop", "read", False)
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:9]
    stored = [str(getattr(token, column.key)) for column in ApiToken.__table__.columns]
    assert not any(secret in value for value in stored)

    # Not in the session cookie either, and gone on the next visit.
    with client.session_transaction() as session:
        assert secret not in repr(dict(session))
    again = client.get("/account/")
    assert secret.encode() not in again.data
    assert b'id="new-token"' not in again.data
    assert token.prefix.encode() in again.data


def test_created_secret_works_with_the_api(client, logged_in):
    secret = NEW_SECRET.search(_create(client).get_data(as_text=True)).group(1)
    other = client.application.test_client()  # no session cookie: the token alone
    assert other.get("/api/v1/notes", headers=bearer(secret)).status_code == 200


def test_expiry_in_days_is_stored(client, logged_in):
    assert _create(client, expires_in_days="30").status_code == 201
    [token] = _tokens()
    assert abs(token.expires_at - (utcnow() + timedelta(days=30))) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, b"This field is required."),
        ({"name": "   "}, b"This field is required."),
        ({"name": "n" * 101}, b"Field cannot be longer than 100 characters."),
        ({"scope": "admin"}, b"Not a valid choice"),
        ({"expires_in_days": "0"}, b"Number must be between 1 and 3650."),
        ({"expires_in_days": "soon"}, b"Not a valid integer value."),
    ],
)
def test_invalid_token_form_is_refused(client, logged_in, fields, message):
    response = _create(client, **fields)
    assert response.status_code == 400
    assert message in response.data
    assert _tokens() == []
    assert not NEW_SECRET.search(response.get_data(as_text=True))


def test_revoke_own_token(client, logged_in, factory):
    token, secret = factory.token(logged_in)
    response = client.post(f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    [stored] = _tokens()
    assert stored.revoked is True
    page = client.get("/account/")
    assert b"revoked. Programs using it can no longer sign in." in page.data
    assert client.application.test_client().get("/api/v1/notes", headers=bearer(secret)).status_code == 401


def test_revoke_someone_elses_token_is_404(client, logged_in, factory):
    bob = factory.user("bob@example.com")
    token, secret = factory.token(bob)
    response = client.post(f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 404
    assert _tokens()[0].revoked is False
    assert client.application.test_client().get("/api/v1/notes", headers=bearer(secret)).status_code == 200


def test_revoke_unknown_token_is_404(client, logged_in):
    assert client.post("/account/tokens/999/revoke").status_code == 404


def test_revoke_by_get_is_not_allowed(client, logged_in, factory):
    token, _ = factory.token(logged_in)
    assert client.get(f"/account/tokens/{token.id}/revoke").status_code == 405
    assert _tokens()[0].revoked is False
