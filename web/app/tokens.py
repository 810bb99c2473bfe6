"""Personal API tokens: created with a secret shown once, stored hashed."""

from __future__ import annotations

import functools
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from .extensions import db
from .models import MAX_ID, ApiToken, User, utcnow

TOKEN_PREFIX = "nt_"  # noqa: S105 - a public marker, not a secret
SCOPES = ("read", "write")
# Writing last_used_at on every request would turn every read into a write;
# once a minute is precise enough to spot an unused or leaked token.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def create_token(
    user: User, name: str, scope: str = "write", expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """Create and commit a token; return it with its secret, which is never stored."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 bits from the OS CSPRNG
    token = ApiToken(
        owner=user,
        name=name.strip(),
        token_hash=ApiToken.hash_secret(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        scope=scope,
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    db.session.add(token)
    db.session.commit()
    return token, secret


def user_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.owner_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


@functools.cache
def _lookup_statement() -> sa.Select[ApiToken]:
    """The token with the hash ``:token_hash``, with its owner.

    Built once: every API request runs it, and building it each time cost
    about a tenth of a millisecond (docs/performance.md).
    """
    # The owner comes in the same query: every API request needs it next.
    return (
        sa.select(ApiToken)
        .options(joinedload(ApiToken.owner))
        .where(ApiToken.token_hash == sa.bindparam("token_hash", type_=ApiToken.token_hash.type))
    )


def find_usable_token(secret: str) -> ApiToken | None:
    """The live token with this secret, or None if unknown, revoked or expired."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(_lookup_statement(), {"token_hash": ApiToken.hash_secret(secret)})
    now = utcnow()
    if token is None or not token.is_usable(now):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    return token


def get_user_token(user: User, token_id: int) -> ApiToken | None:
    token = db.session.get(ApiToken, token_id) if 0 < token_id <= MAX_ID else None
    if token is None or token.owner_id != user.id:
        return None
    return token


def revoke_token(token: ApiToken) -> None:
    token.revoked = True
    db.session.commit()
