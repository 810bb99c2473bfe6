"""Share links: a read-only link to one note that anyone holding it can open.

The owner makes one (optionally expiring) and can revoke it; the secret in
the link is shown once and only its SHA-256 is kept, as for invitations. A
link opens nothing when it is revoked or expired, or when its note is in the
trash or deleted forever (rows go with the note). An archived note stays
shared. Another user's note or link is NotFound, like everything else.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from ..accounts.models import Owner
from ..db.types import is_valid_id, utcnow
from ..domain import NotFoundError
from ..extensions import db
from .models import Note, NoteShare
from .rules import SHARE_DAYS, SHARE_DAYS_PROBLEM

SHARE_PREFIX = "shr_"
# A link's secret: the prefix and 32 URL-safe characters (192 bits); anything
# longer is not one of ours and is not even hashed.
_MAX_SECRET = len(SHARE_PREFIX) + 64


class ShareNotFound(NotFoundError):
    """No such link for this note and owner, or none that opens anything."""


class ShareError(ValueError):
    """A link that cannot be made as asked; the message says what to fix."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_share(note: Note, *, days: int | None = None) -> tuple[NoteShare, str]:
    """Make and commit a link to ``note`` (which the caller owns); return it with its secret.

    Raises ShareError for a lifetime not in SHARE_DAYS, or for a note in the
    trash (a link to it would open nothing).
    """
    if days is not None and days not in SHARE_DAYS:
        raise ShareError(SHARE_DAYS_PROBLEM)
    if note.in_trash:
        raise ShareError("This note is in the trash: restore it first, then share it.")
    secret = SHARE_PREFIX + secrets.token_urlsafe(24)
    share = NoteShare(
        note_id=note.id,
        token_hash=_hash(secret),
        expires_at=utcnow() + timedelta(days=days) if days else None,
    )
    db.session.add(share)
    db.session.commit()
    return share, secret


def _opens() -> sa.ColumnElement[bool]:
    """What makes a link open its note now: not revoked, not expired, the note not in the trash.

    Every query here joins Note; the one place this rule is written.
    """
    return sa.and_(
        NoteShare.revoked_at.is_(None),
        sa.or_(NoteShare.expires_at.is_(None), NoteShare.expires_at > utcnow()),
        Note.deleted_at.is_(None),
    )


def note_shares(note: Note) -> list[NoteShare]:
    """The links to ``note`` that open it now, newest first."""
    statement = (
        sa.select(NoteShare)
        .join(Note, Note.id == NoteShare.note_id)
        .where(NoteShare.note_id == note.id, _opens())
        .order_by(NoteShare.id.desc())
    )
    return list(db.session.scalars(statement))


def user_shares(user: Owner) -> list[NoteShare]:
    """Every link of ``user``'s that opens a note now (not revoked, not expired, note not in the trash)."""
    rows = db.session.scalars(
        sa.select(NoteShare)
        .join(Note, Note.id == NoteShare.note_id)
        .where(Note.owner_id == user.id, _opens())
        .options(contains_eager(NoteShare.note))
        .order_by(NoteShare.id.desc())
    )
    return list(rows)


def get_share(note: Note, share_id: int) -> NoteShare:
    """The link ``share_id`` of ``note`` (revoked or expired ones too); ShareNotFound otherwise."""
    share = db.session.get(NoteShare, share_id) if is_valid_id(share_id) else None
    if share is None or share.note_id != note.id:
        raise ShareNotFound("No such link to this note.")
    return share


def revoke_share(note: Note, share_id: int) -> NoteShare:
    """Revoke and commit link ``share_id`` of ``note``; revoking twice changes nothing. ShareNotFound otherwise."""
    share = get_share(note, share_id)
    if share.revoked_at is None:
        share.revoked_at = utcnow()
        db.session.commit()
    return share


def shared_note(secret: str | None) -> Note:
    """The note a link's ``secret`` opens now; ShareNotFound when it opens nothing.

    One indexed lookup by the secret's hash, whatever the secret: a wrong
    one costs no more than a right one.
    """
    if not secret or not secret.startswith(SHARE_PREFIX) or len(secret) > _MAX_SECRET:
        raise ShareNotFound("No such link.")
    note = db.session.scalar(
        sa.select(Note)
        .join(NoteShare, Note.id == NoteShare.note_id)
        .where(NoteShare.token_hash == _hash(secret), _opens())
    )
    if note is None:
        raise ShareNotFound("No such link.")
    return note
