"""Single sign-on with an OpenID Connect provider: which account an identity
at the provider opens, linking and unlinking identities.

An identity is the provider's issuer and the subject it names, from an ID
token the way in (``sso_views``) has already validated. Accounts are found by
that pair only, never by email: a provider that asserts an email proves
nothing about the account here with that email, so such an account is
linked only by someone who proves it (logged in already, or with its
password). Every login, failure, link and unlink is audited.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from ..db.types import is_valid_id, utcnow
from ..domain import NotAllowed, NotFoundError, RuleConflict
from ..extensions import db
from . import audit, invites, passwords
from .models import OidcIdentity, User
from .passwords import NO_PASSWORD
from .rules import (
    MAX_OIDC_ISSUER_LENGTH,
    MAX_OIDC_SUBJECT_LENGTH,
    AccountError,
    normalize_email,
    registration_refusal,
)
from .service import DISABLED, find_user_by_email

NO_ACCOUNT = (
    "No account on this server is linked to this single sign-on identity. "
    "Log in with your password and link it from your account page, or ask an administrator for an account."
)
NO_EMAIL = "The identity provider did not give a verified email address, which a new account needs."
LINKED_ELSEWHERE = "This single sign-on identity is already linked to another account."
LAST_WAY_IN = "This is the only way to log in to this account: it has no password. It cannot be unlinked."
NOT_THIS_ACCOUNT = (
    "The provider logged in an identity that is not linked to this account; nothing was confirmed. "
    "Log in at the provider as the identity listed on the Account page."
)
OLD_LOGIN = (
    "The provider did not ask you to log in again (its login is older than a few minutes); nothing was confirmed. "
    "Log out at the provider, then try again."
)
HAS_PASSWORD = "This account has a password: the pages ask for it, not for single sign-on."  # noqa: S105 - a message
# How long a confirmation with the provider stands in for the password of an
# account without one, and how recent the provider's own login must be.
CONFIRM_SECONDS = 300


class IdentityNotFound(NotFoundError):
    """No such identity on this account."""


class LinkNeeded(Exception):
    """The identity is linked to no account, but ``user`` has its email: the owner must prove the account first."""

    def __init__(self, user: User) -> None:
        super().__init__("an account with this email exists; prove it to link the identity")
        self.user = user


@dataclass(frozen=True)
class Identity:
    """Who the provider says logged in, from a validated ID token."""

    issuer: str
    subject: str
    email: str = ""
    email_verified: bool = False

    @classmethod
    def from_claims(cls, claims: dict[str, object]) -> Identity:
        """The identity in validated ID token ``claims``; AccountError when ``iss`` or ``sub`` is unusable."""
        issuer, subject = claims.get("iss"), claims.get("sub")
        if not isinstance(issuer, str) or not issuer or len(issuer) > MAX_OIDC_ISSUER_LENGTH:
            raise AccountError("The identity provider sent an unusable issuer.")
        if not isinstance(subject, str) or not subject or len(subject) > MAX_OIDC_SUBJECT_LENGTH:
            raise AccountError("The identity provider sent an unusable subject.")
        email = claims.get("email")
        return cls(
            issuer,
            subject,
            email.strip()[:254] if isinstance(email, str) else "",
            claims.get("email_verified") is True,
        )


def has_password(user: User) -> bool:
    """Whether a password can open ``user``'s account (one made by single sign-on has none)."""
    return passwords.has_password(user.password_hash)


def account(user_id: int) -> User | None:
    """The account ``user_id`` (one that an identity asks to be linked to), or None."""
    return db.session.get(User, user_id) if is_valid_id(user_id) else None


def find_identity(identity: Identity) -> OidcIdentity | None:
    return db.session.scalar(
        sa.select(OidcIdentity).where(OidcIdentity.issuer == identity.issuer, OidcIdentity.subject == identity.subject)
    )


def identities_of(user: User) -> list[OidcIdentity]:
    """``user``'s linked identities, oldest first."""
    return list(
        db.session.scalars(sa.select(OidcIdentity).where(OidcIdentity.user_id == user.id).order_by(OidcIdentity.id))
    )


def record_failure(reason: str, *, ip: str | None, identity: Identity | None = None, user: User | None = None) -> None:
    """Audit (and commit) a failed single sign-on login: ``reason`` says why, in a few words."""
    detail = reason if identity is None else f"{reason} ({identity.issuer} {identity.subject})"
    email = identity.email if identity is not None else None
    audit.record("sso_login_failed", target=user, target_email=email, ip=ip, detail=detail)
    db.session.commit()


def log_in(
    identity: Identity, *, mode: str, auto_create: bool, invite: str | None = None, ip: str | None = None
) -> tuple[User, bool]:
    """The account ``identity`` opens, committed with its audit event; True when it was created now.

    An account with two-factor login on is not logged in by this: its login is
    audited when the code completes it (app/accounts/twofactor.py).

    An unknown identity gets a new account only when ``auto_create`` is on and
    REGISTRATION ``mode`` allows it: ``open``, or ``invite`` with a usable
    ``invite`` (which it claims), and only with a verified email. Raises NotAllowed for a disabled account or
    when no account may be made, LinkNeeded when an unlinked account has the
    identity's email (it is never logged in to), RuleConflict for an
    invitation that cannot be used, AccountError without a verified email.
    """
    link = find_identity(identity)
    if link is not None:
        user = link.user
        if user.is_disabled:
            audit.record("sso_login_refused", target=user, ip=ip, detail="the account is disabled")
            db.session.commit()
            raise NotAllowed(DISABLED)
        link.last_login_at = utcnow()
        if not user.two_factor_enabled:
            # Otherwise nobody is logged in yet: the code completes the login and audits it.
            audit.record("sso_login", target=user, ip=ip, detail=identity.issuer)
        db.session.commit()
        return user, False

    # Only an address the provider vouches for may point at an account here:
    # otherwise anyone could test which addresses have one.
    existing = find_user_by_email(identity.email) if identity.email and identity.email_verified else None
    if existing is not None:
        record_failure("an account has this email but is not linked", ip=ip, identity=identity, user=existing)
        raise LinkNeeded(existing)
    refusal = _creation_refusal(mode, auto_create, invite)
    if refusal is not None:
        record_failure("no linked account", ip=ip, identity=identity)
        raise NotAllowed(refusal)
    # An unverified address could be anybody's: it names no new account.
    if not identity.email or not identity.email_verified:
        record_failure("no verified email to create an account with", ip=ip, identity=identity)
        raise AccountError(NO_EMAIL)
    return _create(identity, mode=mode, invite=invite, ip=ip), True


def _creation_refusal(mode: str, auto_create: bool, invite: str | None) -> str | None:
    """Why no account may be made for a new identity, or None when one may."""
    if not auto_create:
        return NO_ACCOUNT
    return registration_refusal(mode, invite)


def _create(identity: Identity, *, mode: str, invite: str | None, ip: str | None) -> User:
    """A new account for ``identity``, linked, committed; with an invitation claimed under ``invite`` mode."""
    try:
        email = normalize_email(identity.email)
    except AccountError:
        record_failure("unusable email", ip=ip, identity=identity)
        raise
    user = User(email=email, password_hash=NO_PASSWORD)
    db.session.add(user)
    try:
        db.session.flush()
        if mode == "invite":
            invites.claim(invite, user)
        db.session.add(
            OidcIdentity(
                user_id=user.id,
                issuer=identity.issuer,
                subject=identity.subject,
                email=identity.email,
                last_login_at=utcnow(),
            )
        )
        audit.record(
            "register",
            target=user,
            ip=ip,
            detail="single sign-on" + (" with an invitation" if mode == "invite" else ""),
        )
        audit.record("sso_linked", target=user, actor=user, ip=ip, detail=identity.issuer)
        audit.record("sso_login", target=user, ip=ip, detail=identity.issuer)
        db.session.commit()
    except sa.exc.IntegrityError as exc:  # the same email or identity a moment ago
        db.session.rollback()
        raise RuleConflict("Another login created this account a moment ago; log in again.") from exc
    except Exception:
        db.session.rollback()
        raise
    return user


def link(user: User, identity: Identity, *, ip: str | None = None) -> OidcIdentity:
    """Link ``identity`` to ``user``'s account (committed), whose owner has proved it.

    Raises RuleConflict when the identity is linked to another account, and
    NotAllowed when ``user`` is disabled. Linking it again to the same account does nothing.
    """
    if user.is_disabled:
        raise NotAllowed(DISABLED)
    existing = find_identity(identity)
    if existing is not None:
        if existing.user_id != user.id:
            record_failure("linked to another account", ip=ip, identity=identity, user=user)
            raise RuleConflict(LINKED_ELSEWHERE)
        return existing
    row = OidcIdentity(user_id=user.id, issuer=identity.issuer, subject=identity.subject, email=identity.email)
    db.session.add(row)
    audit.record("sso_linked", target=user, actor=user, ip=ip, detail=f"{identity.issuer} {identity.subject}")
    try:
        db.session.commit()
    except sa.exc.IntegrityError as exc:  # linked elsewhere a moment ago
        db.session.rollback()
        raise RuleConflict(LINKED_ELSEWHERE) from exc
    return row


def confirm(user: User, identity: Identity, *, auth_time: object = None, ip: str | None = None) -> None:
    """Record (committed) that the provider has just logged ``user`` in again: for an account without a
    password this stands in for it, for CONFIRM_SECONDS, before a sensitive change.

    Raises NotAllowed when the account has a password (HAS_PASSWORD), when
    ``identity`` is not linked to it (NOT_THIS_ACCOUNT), or when the
    provider says its login (``auth_time``, when it sends one) is older than
    CONFIRM_SECONDS (OLD_LOGIN): a provider's long-lived session in a
    borrowed browser proves nothing new. Failures are audited.
    """
    if has_password(user):
        raise NotAllowed(HAS_PASSWORD)
    link = find_identity(identity)
    if link is None or link.user_id != user.id:
        record_failure("confirmation by an identity not linked to the account", ip=ip, identity=identity, user=user)
        raise NotAllowed(NOT_THIS_ACCOUNT)
    if isinstance(auth_time, (int, float)) and time.time() - auth_time > CONFIRM_SECONDS:
        record_failure("confirmation with an old login at the provider", ip=ip, identity=identity, user=user)
        raise NotAllowed(OLD_LOGIN)
    link.last_login_at = utcnow()
    audit.record("sso_confirmed", target=user, actor=user, ip=ip, detail=identity.issuer)
    db.session.commit()


def unlink(user: User, identity_id: int, *, ip: str | None = None) -> OidcIdentity:
    """Remove one of ``user``'s identities (committed).

    Raises IdentityNotFound when it is not theirs, and RuleConflict when it
    is the last way into an account without a password.
    """
    row = (
        db.session.scalar(
            sa.select(OidcIdentity).where(OidcIdentity.id == identity_id, OidcIdentity.user_id == user.id)
        )
        if is_valid_id(identity_id)
        else None
    )
    if row is None:
        raise IdentityNotFound("No such single sign-on identity on your account.")
    if not has_password(user) and len(identities_of(user)) <= 1:
        raise RuleConflict(LAST_WAY_IN)
    db.session.delete(row)
    audit.record("sso_unlinked", target=user, actor=user, ip=ip, detail=f"{row.issuer} {row.subject}")
    db.session.commit()
    return row


__all__ = [
    "NO_ACCOUNT",
    "NO_PASSWORD",
    "Identity",
    "IdentityNotFound",
    "LinkNeeded",
    "account",
    "confirm",
    "has_password",
    "identities_of",
    "link",
    "log_in",
    "record_failure",
    "unlink",
]
