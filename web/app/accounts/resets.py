"""Password reset links: asked for by email address, sent by mail, used once.

- **Asking** (``request_reset``) answers the same for every address: known,
  unknown or disabled, the same work is done (a secret is made and hashed, the
  request is counted and audited, one mail thread is started) and the same
  result comes back to the caller, so neither the answer nor its timing says
  whether an account exists. Requests are counted per address and per client
  (``throttle.reset_retry_after``), so nobody can flood an inbox.
- **A link** holds a 256-bit secret; only its SHA-256 is stored, with a
  digest of the password hash it was made under. It works once, for
  PASSWORD_RESET_TTL (30 minutes), for an account that is not disabled, and
  only while the password is still the one it was made under.
- **Using it** (``reset_password``) claims it and sets the password in one
  transaction, each by a conditional UPDATE, so two uses of one link, or two
  links at once, cannot both succeed; every login session ends, and the API
  tokens are revoked unless the user chose to keep them.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app

from ..db.types import utcnow
from ..domain import NotAllowed, NotFoundError, RateLimited
from ..extensions import db
from . import audit
from .mail import NOT_SET_UP, Message, deliver, is_set_up
from .models import PasswordReset, User
from .rules import normalize_email
from .service import PasswordChangedMeanwhile, set_password
from .throttle import record_reset_request, reset_retry_after

RESET_PREFIX = "rst_"
UNUSABLE = (
    "This password reset link cannot be used: it was used already, it has expired, the password was changed "
    "since it was sent, or it was not copied whole. Ask for a new one."
)
SUBJECT = "Reset your Notes password"
BODY = """Hello,

Somebody, hopefully you, asked to reset the password of the Notes account {email}.
To choose a new password, open this link within {minutes} minutes:

{link}

It works once. If you did not ask for it, ignore this message: your password stays as it is.
"""


class ResetLinkUnusable(NotFoundError):
    """No usable reset link with this secret."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _password_digest(user: User) -> str:
    """What a link remembers of the password it was made under: a digest of its hash."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()


def _minutes() -> int:
    return int(current_app.config["PASSWORD_RESET_TTL"].total_seconds() // 60)


def new_secret() -> str:
    """A reset link's secret: 256 random bits."""
    return RESET_PREFIX + secrets.token_urlsafe(32)


def create_reset(user: User, secret: str | None = None) -> str:
    """Add (not commit) a reset link for ``user``; its secret, which is stored only hashed."""
    secret = secret or new_secret()
    now = utcnow()
    db.session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=_hash(secret),
            password_digest=_password_digest(user),
            created_at=now,
            expires_at=now + current_app.config["PASSWORD_RESET_TTL"],
        )
    )
    return secret


def _drop_expired() -> None:
    """Links that ran out are of no use to anyone; they are dropped as new ones are asked for."""
    db.session.execute(sa.delete(PasswordReset).where(PasswordReset.expires_at < utcnow()))


def request_reset(email: str, ip: str, link_for: Callable[[str], str]) -> None:
    """Mail a reset link to the account with ``email``, if there is one that may have it (committed).

    ``link_for(secret)`` makes the link's address. Returns the same (nothing)
    for an unknown or disabled account, after the same work. Raises
    NotAllowed when this server sends no mail, RateLimited while this address
    or this client has asked too often, and AccountError for something that
    is not an email address.
    """
    if not is_set_up():
        raise NotAllowed(NOT_SET_UP)
    email = normalize_email(email)
    wait = reset_retry_after(email, ip)
    if wait is not None:
        minutes = max(1, round(wait / 60))
        raise RateLimited(
            f"Too many password reset requests. Try again in about {minutes} minute{'s' if minutes > 1 else ''}.",
            retry_after=wait,
        )
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))
    _drop_expired()
    # The secret is made and hashed whether it is used or not: the same work either way.
    secret = new_secret()
    _hash(secret)
    message = None
    if user is not None and not user.is_disabled:
        create_reset(user, secret)
        link = link_for(secret)
        message = Message(user.email, SUBJECT, BODY.format(email=user.email, minutes=_minutes(), link=link))
        detail = "link sent"
    else:
        detail = "account disabled: no link sent" if user is not None else "no such account: no link sent"
    audit.record("password_reset_requested", target=user, target_email=None if user else email, ip=ip, detail=detail)
    record_reset_request(email, ip)  # commits the link and the event too
    deliver(message)


def usable_reset(secret: str | None) -> PasswordReset | None:
    """The reset link with this secret if it may be used now, or None."""
    if not secret or not secret.startswith(RESET_PREFIX) or len(secret) > 100:
        return None
    reset = db.session.scalar(sa.select(PasswordReset).where(PasswordReset.token_hash == _hash(secret)))
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        return None
    user = reset.user
    if user.is_disabled or reset.password_digest != _password_digest(user):
        return None
    return reset


def reset_password(secret: str | None, new_password: str, *, revoke_tokens: bool, ip: str | None) -> User:
    """Set a new password with a reset link (committed): every session ends, and the tokens unless kept.

    Raises ResetLinkUnusable for a link that is unknown, used, expired, made
    before the password last changed or of a disabled account, and
    AccountError (field ``password``) for a new password the policy refuses.
    Nothing is changed then.
    """
    reset = usable_reset(secret)
    if reset is None:
        raise ResetLinkUnusable(UNUSABLE)
    user = reset.user
    now = utcnow()
    # Conditional: of two uses of one link only the first finds it unused;
    # set_password's own condition settles two links used at once.
    claimed = db.session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None), PasswordReset.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise ResetLinkUnusable(UNUSABLE)
    try:
        set_password(user, new_password, revoke_tokens=revoke_tokens, ip=ip, action="password_reset", field="password")
    except PasswordChangedMeanwhile:
        raise ResetLinkUnusable(UNUSABLE) from None
    return user


def reset_link_for_admin(email: str, *, actor: User | None = None) -> tuple[User, str]:
    """A reset link for the account with ``email``, made by an administrator (committed); the account and secret.

    Raises NotFoundError for no such account and NotAllowed for a disabled one.
    """
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise NotFoundError(f"No account with the email {email!r}; `flask users list` shows them.")
    if user.is_disabled:
        raise NotAllowed(f"{user.email} is disabled; enable it first (`flask users enable`).")
    _drop_expired()
    secret = create_reset(user)
    audit.record("password_reset_requested", target=user, actor=actor, detail="link made by an administrator")
    db.session.commit()
    return user, secret
