"""Database models: users, their notes and their personal API tokens.

``from app.models import db, Note`` is part of the tutorial's contract.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import Base, db

if TYPE_CHECKING:
    # db.Model is built at run time; to the type checker it is the Base it extends.
    Model = Base
else:
    Model = db.Model

# Shared by the HTML forms and the API schemas so both refuse the same input.
MAX_TITLE_LENGTH = 200
MAX_CONTENT_CHARS = 100_000
MAX_TOKEN_NAME_LENGTH = 100
MAX_TAG_LENGTH = 50
MAX_TAGS_PER_NOTE = 20
# Primary keys are INTEGER (32-bit signed in PostgreSQL): a larger id in a URL
# names no row, and must not reach the database, which would fail on it.
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python.

    Postgres stores ``timestamptz``. SQLite has no time zones, so values are
    stored as naive UTC (which keeps them comparable as text) and tagged UTC
    again when read.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime (app.models.utcnow())")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


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
    email: Mapped[str] = mapped_column(sa.String(254))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

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
        """The login session this object was loaded for (set by app.sessions)."""
        return self.__dict__.get("_login_sid")

    @login_sid.setter
    def login_sid(self, value: str | None) -> None:
        # Kept out of the mapper: it belongs to a request, not to the row.
        self.__dict__["_login_sid"] = value

    def get_id(self) -> str:
        if not self.login_sid:
            raise RuntimeError("no login session: use app.sessions.start_session() to log a user in")
        return self.login_sid

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


# Which tags a note has. Rows go with either side (ON DELETE CASCADE).
note_tags = sa.Table(
    "note_tags",
    db.metadata,
    sa.Column("note_id", sa.ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(Model):
    """A user's label for notes. Names are unique per user, ignoring case."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(MAX_TAG_LENGTH))
    # name.casefold(), computed in Python: SQLite's lower() folds ASCII only
    # and Postgres' depends on the locale, so neither can be the judge of
    # "the same tag" (Å and å).
    name_key: Mapped[str] = mapped_column(sa.String(4 * MAX_TAG_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.Index("uq_tags_owner_name_key", "owner_id", "name_key", unique=True),)

    @staticmethod
    def key(name: str) -> str:
        return name.casefold()

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Tag {self.id} {self.name!r}>"


class Note(Model):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Nullable at the Python level only so that the tutorial's
    # ``Note(title=..., content=...)`` can be built without an owner; the
    # column itself is NOT NULL.
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(MAX_TITLE_LENGTH))
    content: Mapped[str] = mapped_column(sa.Text, default="")
    pinned: Mapped[bool] = mapped_column(default=False)
    archived: Mapped[bool] = mapped_column(default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False)

    owner: Mapped[User] = relationship(back_populates="notes")
    # selectin: a page of notes loads all their tags in one more query, never one per note.
    tags: Mapped[list[Tag]] = relationship(secondary=note_tags, order_by=lambda: Tag.name_key, lazy="selectin")

    # SQLAlchemy adds "AND version = :old" to every UPDATE and bumps it, so a
    # write based on a stale read fails instead of overwriting silently.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - read once by the mapper

    __table_args__ = (
        # Serves the list: one owner's live notes, pinned first, newest first.
        sa.Index("ix_notes_owner_list", "owner_id", "pinned", "updated_at", "id"),
        # One owner's live note ids without touching the table (index-only):
        # tag counts for the sidebar (notes.tags.tag_counts).
        sa.Index(
            "ix_notes_owner_live",
            "owner_id",
            "id",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        ),
    )

    @property
    def in_trash(self) -> bool:
        return self.deleted_at is not None

    def __str__(self) -> str:
        return self.title

    def __repr__(self) -> str:
        return f"<Note {self.id} {self.title!r}>"


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

    user: Mapped[User] = relationship()


class AuthFailure(Model):
    """One failed login, counted against a key (account, address or device)."""

    __tablename__ = "auth_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    __table_args__ = (sa.Index("ix_auth_failures_key_created", "key", "created_at"),)


# Search objects that are not models: FTS5 tables on SQLite, the generated
# tsvector column and its indexes on Postgres (see app/search.py).
SEARCH_OBJECT_NAMES = frozenset({"search_vector", "ix_notes_search", "ix_notes_title_trgm", "ix_notes_content_trgm"})


def include_in_autogenerate(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Leave the search objects out of Alembic's model-versus-database comparison."""
    if name is None:
        return True
    return not (name.startswith("notes_fts") or name in SEARCH_OBJECT_NAMES)


def render_alembic_type(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Write UTCDateTime into migrations as the plain column type it stores,
    so that migration files never import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


__all__ = ["ApiToken", "AuthFailure", "LoginSession", "Note", "Tag", "User", "db", "note_tags", "utcnow"]
