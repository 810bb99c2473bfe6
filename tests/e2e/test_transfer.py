"""Export and import on PostgreSQL: a note's history comes back whole, and the round trip is byte for byte."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.helpers.data import Factory

from app.models import Note, NoteRevision, db
from app.notes.service import update_note
from app.notes.transfer import export_zip, import_zip

pytestmark = pytest.mark.e2e


def test_history_round_trips_on_postgresql(app, factory: Factory) -> None:
    alice = factory.user("alice@example.com")
    note = factory.note(alice, title="Plan", content="first")
    update_note(note, {"content": "second", "tags": ["work"]})
    first = export_zip(alice)

    bob = factory.user("bob@example.com")
    assert import_zip(bob, first).count == 1
    moved = db.session.scalars(sa.select(Note).where(Note.owner_id == bob.id)).one()
    history = db.session.scalars(sa.select(NoteRevision).where(NoteRevision.note_id == moved.id)).all()
    assert [(r.note_version, r.content) for r in history] == [(1, "first")]
    assert moved.version == 2 and moved.updated_at == note.updated_at
    assert export_zip(bob) == first
