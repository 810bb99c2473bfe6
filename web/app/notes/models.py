"""The notes tables: notes, tags and which tags a note has."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..db.types import UTCDateTime, utcnow
from ..extensions import Model, db
from .markdown import EXCERPT_LIMIT, EXCERPT_VERSION, plain_excerpt
from .rules import MAX_FILENAME_LENGTH, MAX_TAG_LENGTH, MAX_TITLE_LENGTH

if TYPE_CHECKING:
    from ..accounts.models import User


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
    # rules.tag_key(name), computed in Python (see there why).
    name_key: Mapped[str] = mapped_column(sa.String(4 * MAX_TAG_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # How many of the owner's live (not trashed) notes have it: kept in step by
    # triggers in the database on every write of note_tags and notes
    # (app/notes/tag_counts.py), so the sidebar reads it instead of counting.
    # The app never writes it.
    note_count: Mapped[int] = mapped_column(sa.Integer, server_default="0")

    __table_args__ = (sa.Index("uq_tags_owner_name_key", "owner_id", "name_key", unique=True),)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Tag {self.id} {self.name!r}>"


def excerpt_columns(content: str) -> dict[str, Any]:
    """Note's excerpt columns for ``content``: for a bulk INSERT or UPDATE, which passes the ORM's validator by."""
    return {"excerpt": plain_excerpt(content), "excerpt_version": EXCERPT_VERSION}


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
    # What a list shows of the content, made once when the content is set
    # (``_content_set``) rather than on every list page (docs/performance.md).
    # A row whose excerpt_version is not EXCERPT_VERSION is computed afresh.
    # A bulk INSERT that passes the validator by (``excerpt_columns`` not given)
    # leaves version 0: stale, so the lists compute it rather than show "".
    excerpt: Mapped[str] = mapped_column(sa.String(EXCERPT_LIMIT), default="")
    excerpt_version: Mapped[int] = mapped_column(sa.SmallInteger, default=0)

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
        # tag counts for the sidebar (app.notes.tags.tag_counts).
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

    @validates("content")
    def _content_set(self, _key: str, content: str) -> str:
        for name, value in excerpt_columns(content).items():
            setattr(self, name, value)
        return content

    @property
    def list_excerpt(self) -> str:
        """The note's text as the lists show it: stored, or made now if stored by an older renderer."""
        if self.excerpt_version == EXCERPT_VERSION:
            return self.excerpt
        return plain_excerpt(self.content)

    def __str__(self) -> str:
        return self.title

    def __repr__(self) -> str:
        return f"<Note {self.id} {self.title!r}>"


class NoteRevision(Model):
    """A note as it was before a save replaced it, and that save (app.notes.history).

    Rows are only ever added, or folded into (``last_save_at``), never
    rewritten: a restore is a new save. They go with their note
    (ON DELETE CASCADE), so purging a note purges its history.
    """

    __tablename__ = "note_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(sa.ForeignKey("notes.id", ondelete="CASCADE"))
    # The note's version this snapshot was, and when that version was saved.
    note_version: Mapped[int] = mapped_column(sa.Integer)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    title: Mapped[str] = mapped_column(sa.String(MAX_TITLE_LENGTH))
    content: Mapped[str] = mapped_column(sa.Text)
    # Tag names joined by commas, which a name cannot hold (rules.clean_tag_name).
    tags: Mapped[str] = mapped_column(sa.Text, default="")
    # The save that replaced it: who, from which client (history.Editor.client:
    # a login session's or an API token's key, "" when unknown), when, and
    # the last save of that client folded into it.
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), default=None)
    client: Mapped[str] = mapped_column(sa.String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_save_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When that save restored an older revision: its id (no foreign key: it may be pruned).
    restored_from: Mapped[int | None] = mapped_column(sa.Integer, default=None)

    __table_args__ = (
        # A note's history, newest first, and its latest revision (the fold check).
        sa.Index("ix_note_revisions_note", "note_id", "id"),
        # Pruning by age (`flask notes purge-trash` with REVISIONS_KEEP_DAYS).
        sa.Index("ix_note_revisions_last_save_at", "last_save_at"),
    )

    @property
    def tag_names(self) -> list[str]:
        return self.tags.split(",") if self.tags else []

    @property
    def via(self) -> str | None:
        """How the replacing save came: "session" (a browser login), "token" (an API token), or None."""
        kind = self.client.partition(":")[0]
        return kind if kind in ("session", "token") else None

    def __repr__(self) -> str:
        return f"<NoteRevision {self.id} of note {self.note_id} v{self.note_version}>"


class NoteShare(Model):
    """A read-only link to a note (app.notes.sharing). Only the link secret's hash is kept.

    Goes with its note (ON DELETE CASCADE). Revoking keeps the row (when,
    for the owner's list) but the link never works again.
    """

    __tablename__ = "note_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(sa.ForeignKey("notes.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    note: Mapped[Note] = relationship()

    __table_args__ = (sa.Index("ix_note_shares_note", "note_id", "id"),)

    def __repr__(self) -> str:
        return f"<NoteShare {self.id} of note {self.note_id}>"


class Attachment(Model):
    """A file added to a note (app.notes.attachments). Its bytes live in the
    attachment storage under ``key``; the row is what the app knows of them.

    ``key`` is random, the file's name in storage and in its URL; the name the
    client gave is kept only to offer it back on download. ``content_type``
    was found from the bytes, never taken from the client. Rows go with their
    note (ON DELETE CASCADE); the stored bytes go when the deleting
    transaction commits (attachments.py).
    """

    __tablename__ = "note_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(sa.ForeignKey("notes.id", ondelete="CASCADE"))
    # The note's owner, kept here so a user's quota is one indexed sum.
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(32), unique=True)
    filename: Mapped[str] = mapped_column(sa.String(MAX_FILENAME_LENGTH))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.Index("ix_note_attachments_note", "note_id", "id"),
        sa.Index("ix_note_attachments_owner", "owner_id"),
    )

    def __repr__(self) -> str:
        return f"<Attachment {self.key} of note {self.note_id}>"
