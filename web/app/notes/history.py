"""A note's history: every save that changes its title, content or tags keeps
the version it replaced as a revision (``models.NoteRevision``).

Folding. A client saving again and again (typing, autosave) would leave a
revision per keystroke. So a save folds into the note's latest revision,
adding none, when that revision was left by the same client and that
client's last save was at most ``REVISION_FOLD_WINDOW`` ago (2 minutes; a
sliding window: a burst of saves, each within the window of the one before,
leaves one revision, the note as it was before the burst). The "same client"
is the same user through the same login session (``session_client``, a
browser and the API calls it makes with its cookie) or the same API token
(``token_client``); two tabs of one login are one client, two devices or two
tokens are two. A save with no known client (``Editor`` missing) never folds,
and neither does a restore, nor a save onto a restore: a restore always
stands in the history as a step of its own.

What is not a revision: pinning, archiving, trashing and restoring from the
trash (they change none of the three), creating or importing a note, and
renaming or merging a tag (it changes the name on every note at once).

Retention: revisions are kept until their note is deleted forever (the
foreign key cascades), or, with ``REVISIONS_KEEP_DAYS`` set, until
``flask notes purge-trash`` finds their last save older than that
(``prune_revisions``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..db.types import is_valid_id, utcnow
from ..domain import NotFoundError
from ..extensions import db
from ..http.pagination import decode_cursor, encode_cursor
from .models import Note, NoteRevision

DEFAULT_FOLD_WINDOW = timedelta(minutes=2)


class RevisionNotFound(NotFoundError):
    """No such revision of this note (another note's revision too)."""


@dataclass(frozen=True)
class Editor:
    """Who saves, and through which client: what folding compares."""

    user_id: int | None
    client: str


def session_client(sid: str | None) -> str:
    """The client key of a login session: a hash of its id, never the id itself
    (which would log its holder in), and not the hash ``login_sessions`` stores."""
    if not sid:
        return ""
    return "session:" + hashlib.sha256(b"note-revision-client:" + sid.encode()).hexdigest()[:32]


def token_client(token_id: int) -> str:
    return f"token:{token_id}"


@dataclass(frozen=True)
class Snapshot:
    """What a revision keeps of a note, taken before a save changes it."""

    version: int
    saved_at: datetime
    title: str
    content: str
    tags: tuple[str, ...]

    @classmethod
    def of(cls, note: Note) -> Snapshot:
        return cls(note.version, note.updated_at, note.title, note.content, tuple(t.name for t in note.tags))

    def same_text(self, other: Snapshot) -> bool:
        return (self.title, self.content, self.tags) == (other.title, other.content, other.tags)


def should_fold(latest: NoteRevision | None, client: str, now: datetime, window: timedelta) -> bool:
    """Whether a save by ``client`` at ``now`` folds into the note's ``latest`` revision (see the module)."""
    return (
        latest is not None
        and client != ""
        and latest.client == client
        and latest.restored_from is None
        and window > timedelta(0)
        and now - latest.last_save_at <= window
    )


def fold_window() -> timedelta:
    window: timedelta = current_app.config.get("REVISION_FOLD_WINDOW", DEFAULT_FOLD_WINDOW)
    return window


def record(
    note: Note,
    before: Snapshot,
    editor: Editor | None,
    *,
    restored_from: int | None = None,
    now: datetime | None = None,
) -> NoteRevision | None:
    """Keep ``before`` as a revision of ``note``, now changed in the session (not committed).

    Nothing when the title, content and tags did not change; the latest
    revision, its ``last_save_at`` moved on, when the save folds into it.
    """
    if before.same_text(Snapshot.of(note)):
        return None
    now = now or utcnow()
    client = editor.client if editor is not None else ""
    if restored_from is None:
        # No autoflush: the note's UPDATE (and its version check) belongs to the caller's commit.
        with db.session.no_autoflush:
            latest = db.session.scalar(
                sa.select(NoteRevision).where(NoteRevision.note_id == note.id).order_by(NoteRevision.id.desc()).limit(1)
            )
        if latest is not None and should_fold(latest, client, now, fold_window()):
            latest.last_save_at = now
            return latest
    revision = NoteRevision(
        note_id=note.id,
        note_version=before.version,
        saved_at=before.saved_at,
        title=before.title,
        content=before.content,
        tags=",".join(before.tags),
        author_id=editor.user_id if editor is not None else None,
        client=client,
        created_at=now,
        last_save_at=now,
        restored_from=restored_from,
    )
    db.session.add(revision)
    return revision


@dataclass(frozen=True)
class RevisionPage:
    items: list[NoteRevision]
    next_cursor: str | None


def list_revisions(note: Note, *, cursor: str | None = None, limit: int = 20) -> RevisionPage:
    """One page of ``note``'s revisions, newest first. Raises CursorError for a cursor this app did not make."""
    query = sa.select(NoteRevision).where(NoteRevision.note_id == note.id)
    if cursor:
        (after,) = decode_cursor(cursor, (int,))
        query = query.where(NoteRevision.id < after)
    rows = list(db.session.scalars(query.order_by(NoteRevision.id.desc()).limit(limit + 1)))
    more = encode_cursor((rows[limit - 1].id,)) if len(rows) > limit else None
    return RevisionPage(rows[:limit], more)


def get_revision(note: Note, revision_id: int) -> NoteRevision:
    """Revision ``revision_id`` of ``note``; RevisionNotFound otherwise, also when it is another note's.

    ``note`` comes from ``service.get_owned_note``, so another user's revision is not found either.
    """
    revision = db.session.get(NoteRevision, revision_id) if is_valid_id(revision_id) else None
    if revision is None or revision.note_id != note.id:
        raise RevisionNotFound("No such revision of this note. It may have been pruned.")
    return revision


def prune_revisions(older_than: timedelta, *, now: datetime | None = None) -> int:
    """Delete every revision (of every note) whose last save is older than ``older_than``; returns how many."""
    cutoff = (now or utcnow()) - older_than
    result = db.session.execute(sa.delete(NoteRevision).where(NoteRevision.last_save_at < cutoff))
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
