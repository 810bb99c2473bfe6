"""Personal API tokens: strong secrets shown once, stored hashed, refused when
revoked or expired, and last use recorded without a write per request."""

from __future__ import annotations

import math
import re
import string
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.accounts import tokens
from app.accounts.tokens import create_token, find_usable_token, revoke_token
from app.domain import NotAllowed
from app.models import ApiToken, db

SECRET_FORMAT = re.compile(r"^nt_[A-Za-z0-9_-]{43}$")


def test_secret_format_and_strength(app, user):
    _, secret = create_token(user, "laptop")
    assert SECRET_FORMAT.match(secret)
    random_part = secret[len("nt_") :]
    bits = len(random_part) * math.log2(len(string.ascii_letters + string.digits + "-_"))
    assert bits >= 128


def test_secrets_differ(app, user):
    secrets_seen = {create_token(user, f"t{i}")[1] for i in range(20)}
    assert len(secrets_seen) == 20


def test_prefix_is_the_start_of_the_secret(app, user):
    token, secret = create_token(user, "laptop")
    assert secret.startswith(token.prefix)
    assert token.prefix.startswith("nt_")
    assert len(token.prefix) == 9


def test_only_the_hash_is_stored(app, user):
    token, secret = create_token(user, "  laptop  ", scope="read")
    assert token.token_hash == ApiToken.hash_secret(secret)
    row = db.session.execute(sa.text("SELECT * FROM api_tokens WHERE id = :id"), {"id": token.id}).mappings().one()
    assert all(secret not in str(value) for value in row.values())
    assert row["name"] == "laptop"
    assert row["scope"] == "read"


def test_expiry_is_set_from_days(app, user):
    token, _ = create_token(user, "ci", expires_in_days=30)
    assert abs(token.expires_at - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)
    forever, _ = create_token(user, "forever")
    assert forever.expires_at is None


@pytest.mark.parametrize("scope", ["owner", "", "READ", "ADMIN", "read,write"])
def test_invalid_scope_is_refused_and_nothing_stored(app, user, scope):
    with pytest.raises(ValueError, match="scope must be one of read, write, admin"):
        create_token(user, "bad", scope=scope)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_only_an_administrator_gets_an_admin_token(app, user):
    with pytest.raises(NotAllowed, match="Only administrators"):
        create_token(user, "admin", scope="admin")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0
    user.is_admin = True
    token, _ = create_token(user, "admin", scope="admin")
    assert token.scope == "admin"


def test_find_usable_token_finds_live_token(app, user):
    token, secret = create_token(user, "laptop", scope="read")
    create_token(user, "phone")
    assert find_usable_token(secret) == tokens.TokenGrant(token_id=token.id, owner_id=user.id, scope="read")


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "garbage",
        "Bearer nt_abc",
        "nt_",
        "nt_" + "A" * 43,  # well-formed but unknown
        "nt_" + "A" * 200,  # overlong
        "\x00nt_abc",
    ],
)
def test_find_usable_token_refuses_unknown_and_garbage(app, user, secret):
    create_token(user, "laptop")
    assert find_usable_token(secret) is None


def test_find_usable_token_refuses_overlong_secret_before_lookup(app, user):
    # Even a row that would match is never looked up: the length check comes first.
    overlong = "nt_" + "A" * 98
    db.session.add(ApiToken(owner=user, name="x", token_hash=ApiToken.hash_secret(overlong), prefix=overlong[:9]))
    db.session.commit()
    assert find_usable_token(overlong) is None


def test_find_usable_token_refuses_a_near_miss(app, user):
    _, secret = create_token(user, "laptop")
    assert find_usable_token(secret[:-1]) is None
    assert find_usable_token(secret + "x") is None
    assert find_usable_token(secret.upper()) is None


def test_find_usable_token_refuses_revoked(app, user):
    token, secret = create_token(user, "laptop")
    revoke_token(token)
    assert find_usable_token(secret) is None


def test_find_usable_token_refuses_expired(app, user):
    token, secret = create_token(user, "laptop", expires_in_days=1)
    token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    assert find_usable_token(secret) is None


def test_last_used_at_is_written_at_most_once_a_minute(app, user, monkeypatch):
    token, secret = create_token(user, "laptop")
    assert token.last_used_at is None
    clock = {"now": datetime(2025, 1, 1, 12, 0, tzinfo=UTC)}
    monkeypatch.setattr(tokens, "utcnow", lambda: clock["now"])
    t0 = clock["now"]

    find_usable_token(secret)
    assert token.last_used_at == t0

    clock["now"] = t0 + timedelta(seconds=59)
    find_usable_token(secret)
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == t0

    clock["now"] = t0 + timedelta(seconds=60)
    find_usable_token(secret)
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == t0 + timedelta(seconds=60)


def test_last_used_at_is_not_written_for_refused_tokens(app, user):
    token, secret = create_token(user, "laptop")
    revoke_token(token)
    find_usable_token(secret)
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at is None
