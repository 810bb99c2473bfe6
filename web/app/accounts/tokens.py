"""Personal API tokens: created with a secret shown once, stored hashed."""

from __future__ import annotations

import functools
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa

from ..db.types import is_valid_id, utcnow
from ..domain import NotAllowed, NotFoundError
from ..extensions import db
from . import audit
from .models import ApiToken, Owner, User
from .rules import TOKEN_SCOPES

TOKEN_PREFIX = "nt_"  # noqa: S105 - a public marker, not a secret
# Writing last_used_at on every request would turn every read into a write;
# once a minute is precise enough to spot an unused or leaked token.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def create_token(
    user: User,
    name: str,
    scope: str = "write",
    expires_in_days: int | None = None,
    *,
    commit: bool = True,
    ip: str | None = None,
) -> tuple[ApiToken, str]:
    """Create and commit a token; return it with its secret, which is never stored.

    With ``commit`` False it is only flushed, for a caller that commits it
    together with more (an Idempotency-Key's answer). Raises ValueError for
    an unknown scope and NotAllowed for an admin token of a non-administrator.
    """
    if scope not in TOKEN_SCOPES:
        raise ValueError(f"scope must be one of {', '.join(TOKEN_SCOPES)}")
    if scope == "admin" and not user.is_admin:
        raise NotAllowed("Only administrators can create tokens with the admin scope.")
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
    audit.record("token_created", target=user, actor=user, ip=ip, detail=f"{token.name} ({scope})")
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return token, secret


class TokenGrant(NamedTuple):
    """What a usable token lets its bearer do: act for ``owner_id``, within ``scope``."""

    token_id: int
    owner_id: int
    scope: str


def user_tokens(user: Owner) -> list[ApiToken]:
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.owner_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


@functools.cache
def token_lookup_statement() -> sa.Select[int, int, str, bool, datetime | None, datetime | None]:
    """The columns that decide whether the token hashed ``:token_hash`` may be used.

    Built once, and run without the ORM: every API request runs it, and
    building it each time, then loading an ``ApiToken`` and its owner as
    objects, was the largest cost of a request in the app (docs/performance.md,
    "What was tuned").
    """
    return sa.select(
        ApiToken.id, ApiToken.owner_id, ApiToken.scope, ApiToken.revoked, ApiToken.expires_at, ApiToken.last_used_at
    ).where(ApiToken.token_hash == sa.bindparam("token_hash", type_=ApiToken.token_hash.type))


def find_usable_token(secret: str) -> TokenGrant | None:
    """What the token with this secret grants, or None if unknown, revoked or expired.

    Records the use in ``last_used_at`` (and commits) when the last record is
    older than LAST_USED_RESOLUTION.
    """
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    connection = db.session.connection()
    row = connection.execute(token_lookup_statement(), {"token_hash": ApiToken.hash_secret(secret)}).first()
    now = utcnow()
    if row is None or not ApiToken.usable(row.revoked, row.expires_at, now):
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        connection.execute(sa.update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
        db.session.commit()
    return TokenGrant(row.id, row.owner_id, row.scope)


class TokenNotFound(NotFoundError):
    """No such token of this owner's."""


def get_owned_token(user: Owner, token_id: int) -> ApiToken:
    """The token ``token_id`` if ``user`` owns it; TokenNotFound otherwise (another's token too)."""
    token = db.session.get(ApiToken, token_id) if is_valid_id(token_id) else None
    if token is None or token.owner_id != user.id:
        raise TokenNotFound("No such token.")
    return token


def revoke_all_tokens(owner: Owner) -> int:
    """Revoke every usable API token of ``owner`` (not committed); how many were revoked."""
    result = db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.owner_id == owner.id, ApiToken.revoked.is_(False))
        .values(revoked=True)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def revoke_token(token: ApiToken, *, ip: str | None = None) -> None:
    """Revoke ``token`` (committed): it stops working at once."""
    if not token.revoked:
        token.revoked = True
        audit.record("token_revoked", target=token.owner, actor=token.owner, ip=ip, detail=token.name)
    db.session.commit()
