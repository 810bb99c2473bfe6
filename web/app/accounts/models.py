"""The account tables: users, their login sessions, API tokens, failed logins,
invitations, the audit log and single sign-on identities."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db.types import UTCDateTime, utcnow
from ..extensions import Model
from .rules import (
    MAX_EMAIL_LENGTH,
    MAX_INVITE_NOTE_LENGTH,
    MAX_IP_LENGTH,
    MAX_OIDC_ISSUER_LENGTH,
    MAX_OIDC_SUBJECT_LENGTH,
    MAX_TOKEN_NAME_LENGTH,
    MAX_USER_AGENT_LENGTH,
)

if TYPE_CHECKING:
    from ..notes.models import Note


class Owner(Protocol):
    """Whoever notes, tags and tokens belong to, as far as a query needs: an id.

    A ``User`` is one. So is an API caller known from its token alone
    (``app.api.auth.Caller``), which saves loading the account on every API
    request. Functions that read or change only the owner's rows take this;
    those that need the account itself (its password, its relationships)
    take a ``User``.
    """

    @property
    def id(self) -> int: ...


class User(UserMixin, Model):
    """An account. ``get_id`` is the current login session's id, not the
    user's, so that Flask-Login's cookies name a session the server can end."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(MAX_EMAIL_LENGTH))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # May manage other accounts (/admin, /api/v1/admin, `flask users`).
    is_admin: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Set while an administrator has disabled the account: no login, no session, no token.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Two-factor login (app/accounts/twofactor.py). The TOTP secret, encrypted
    # (Fernet under ENCRYPTION_KEY or SECRET_KEY); set while enrolling, and
    # in use once totp_enabled_at is set.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(255), default=None)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # The last time step whose code was accepted: a code is never taken twice.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger(), default=None)

    notes: Mapped[list[Note]] = relationship(back_populates="owner", cascade="all, delete-orphan", passive_deletes=True)
    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        # Case-insensitive uniqueness enforced by the database itself, so two
        # concurrent sign-ups with "A@x" and "a@x" cannot both succeed.
        sa.Index("uq_users_email_lower", sa.text("lower(email)"), unique=True),
    )

    # UserMixin compares users by get_id(), which is now per session; rows
    # are unique per session already, so plain identity is the right test.
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    @property
    def login_sid(self) -> str | None:
        """The login session this object was loaded for (set by app.accounts.sessions)."""
        return self.__dict__.get("_login_sid")

    @login_sid.setter
    def login_sid(self, value: str | None) -> None:
        # Kept out of the mapper: it belongs to a request, not to the row.
        self.__dict__["_login_sid"] = value

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    def get_id(self) -> str:
        if not self.login_sid:
            raise RuntimeError("no login session: use app.accounts.sessions.start_session() to log a user in")
        return self.login_sid

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class ApiToken(Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(MAX_TOKEN_NAME_LENGTH))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    scope: Mapped[str] = mapped_column(sa.String(16), default="write")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked: Mapped[bool] = mapped_column(default=False)

    owner: Mapped[User] = relationship(back_populates="tokens")

    @staticmethod
    def hash_secret(secret: str) -> str:
        # Tokens carry 256 random bits, so a fast hash is enough: there is
        # nothing to brute-force, and lookups by hash stay cheap.
        return hashlib.sha256(secret.encode()).hexdigest()

    def is_usable(self, now: datetime | None = None) -> bool:
        return self.usable(self.revoked, self.expires_at, now or utcnow())

    @staticmethod
    def usable(revoked: bool, expires_at: datetime | None, now: datetime) -> bool:
        """Whether a token in this state may be used at ``now``: not revoked, not expired."""
        return not revoked and (expires_at is None or expires_at > now)

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}>"


class LoginSession(Model):
    """A browser login. Ending the row ends the session, wherever the cookie is."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Only a hash: a copy of the table does not hand out live sessions.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Where the login came from, for the account page's list of sessions
    # (app.accounts.devices names the device). None for sessions older than
    # these columns.
    user_agent: Mapped[str | None] = mapped_column(sa.String(MAX_USER_AGENT_LENGTH), default=None)
    ip: Mapped[str | None] = mapped_column(sa.String(MAX_IP_LENGTH), default=None)

    user: Mapped[User] = relationship()


class RecoveryCode(Model):
    """One single-use recovery code for two-factor login; only its hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (sa.UniqueConstraint("user_id", "code_hash", name="uq_recovery_codes_user_hash"),)


class TwoFactorChallenge(Model):
    """A login whose password was right, waiting for the second factor.

    Not a login session: the browser holds only its random id (in the signed
    session cookie), it lasts a few minutes, and it is used up by the login
    it completes.
    """

    __tablename__ = "two_factor_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()


class AuthFailure(Model):
    """One failed login, counted against a key (account, address or device)."""

    __tablename__ = "auth_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    __table_args__ = (sa.Index("ix_auth_failures_key_created", "key", "created_at"),)


class Invite(Model):
    """A single-use link to register while REGISTRATION=invite. Only the hash of its secret is kept."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Who it is for, as the admin wrote it (shown in the list only).
    note: Mapped[str] = mapped_column(sa.String(MAX_INVITE_NOTE_LENGTH), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    used_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    used_by: Mapped[User | None] = relationship(foreign_keys=[used_by_id])


class PasswordReset(Model):
    """A password reset link sent by mail (or printed by ``flask users reset-link``).

    Only the hash of its secret is kept, and a digest of the password hash it
    was made under: once the password changes, by this link or any other way,
    the link no longer works.
    """

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_digest: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    user: Mapped[User] = relationship()


class AuditEvent(Model):
    """Who did what to which account, when and from where.

    The emails are copied in, so the log still reads after an account is deleted.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(sa.String(40))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    actor_email: Mapped[str | None] = mapped_column(sa.String(MAX_EMAIL_LENGTH))
    target_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    target_email: Mapped[str | None] = mapped_column(sa.String(MAX_EMAIL_LENGTH))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    detail: Mapped[str] = mapped_column(sa.String(255), default="")

    __table_args__ = (
        sa.Index("ix_audit_events_created", "created_at"),
        sa.Index("ix_audit_events_target_created", "target_id", "created_at"),
    )


class OidcIdentity(Model):
    """An account's identity at a single sign-on provider: its issuer and subject.

    Logins through the provider find the account by this pair only, never by
    email: an email the provider asserts proves nothing about an account here.
    """

    __tablename__ = "oidc_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(sa.String(MAX_OIDC_ISSUER_LENGTH))
    subject: Mapped[str] = mapped_column(sa.String(MAX_OIDC_SUBJECT_LENGTH))
    # The email the provider gave when the link was made (shown on the account page only).
    email: Mapped[str] = mapped_column(sa.String(MAX_EMAIL_LENGTH), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    user: Mapped[User] = relationship()

    __table_args__ = (sa.UniqueConstraint("issuer", "subject", name="uq_oidc_identities_issuer_subject"),)
