"""Retention of revisions: they go with a purged note, and REVISIONS_KEEP_DAYS prunes old ones."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.models import Note, NoteRevision, db, utcnow
from app.notes.service import purge_note, update_note


def _revision_notes() -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(NoteRevision.note_id).order_by(NoteRevision.id)))


def test_purging_a_trashed_note_deletes_its_revisions(app, factory, user):
    gone = factory.note(user, title="old", content="a")
    kept = factory.note(user, title="kept", content="a")
    update_note(gone, {"content": "b"})
    update_note(kept, {"content": "b"})
    gone.deleted_at = utcnow() - timedelta(days=31)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["notes", "purge-trash"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 note" in result.output and "revision" not in result.output  # keeps all by default
    assert _revision_notes() == [kept.id]


def test_deleting_a_note_forever_deletes_its_revisions(app, factory, user):
    note = factory.note(user, content="a")
    update_note(note, {"content": "b"})
    update_note(note, {"deleted_at": utcnow()})
    purge_note(note)
    assert _revision_notes() == []


def _aged(note: Note, days: int) -> None:
    update_note(note, {"content": f"{note.content}+"})
    revision = db.session.scalars(sa.select(NoteRevision).order_by(NoteRevision.id.desc())).first()
    assert revision is not None
    revision.last_save_at = utcnow() - timedelta(days=days)
    db.session.commit()


def test_revisions_keep_days_prunes_old_revisions_in_purge_trash(app, factory, user):
    note = factory.note(user, content="a")
    _aged(note, 100)
    _aged(note, 5)
    app.config["REVISIONS_KEEP_DAYS"] = 30
    result = app.test_cli_runner().invoke(args=["notes", "purge-trash"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 revision older than 30 days." in result.output
    db.session.expire_all()
    assert [r.content for r in db.session.scalars(sa.select(NoteRevision))] == ["a+"]
    # The option overrides the setting.
    result = app.test_cli_runner().invoke(args=["notes", "purge-trash", "--revision-days", "1"])
    assert "Deleted 1 revision older than 1 days." in result.output
    assert _revision_notes() == []
