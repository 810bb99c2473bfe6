"""Export and import on PostgreSQL: a note's history comes back whole, and the round trip is byte for byte."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import sqlalchemy as sa
from tests.helpers.data import Factory, export_archive, exported_note

from app.models import Note, NoteRevision, db, utcnow
from app.notes.service import update_note
from app.notes.transfer import IMPORT_BATCH, export_zip, import_zip

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


def test_the_export_orders_ties_by_code_point_in_batches_on_postgresql(
    app, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A database's collation may put "a" before "B" and "é" beside "e" (the one here is C, so
    # the columns get a language's collation); the export never did.
    db.session.execute(sa.text("ALTER TABLE notes DROP COLUMN search_vector"))  # rolled back with the test
    kind = (
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'notes'::regclass AND attname = :c"
    )
    for column in ("title", "content"):
        type_ = db.session.scalar(sa.text(kind), {"c": column})
        db.session.execute(sa.text(f'ALTER TABLE notes ALTER COLUMN {column} TYPE {type_} COLLATE "und-x-icu"'))
    alice = factory.user("alice@example.com")
    moment = utcnow()
    for title in ["b", "B", "é", "a", "Z", "ä", "e", "a"]:
        note = factory.note(alice, title=title, content=f"{title} text")
        note.created_at = moment
    db.session.commit()
    whole = export_zip(alice)
    index = json.loads(zipfile.ZipFile(io.BytesIO(whole)).read("notes.json"))
    titles = [record["title"] for record in index["notes"]]
    assert titles == sorted(titles) == ["B", "Z", "a", "a", "b", "e", "ä", "é"]
    monkeypatch.setattr("app.notes.transfer.EXPORT_BATCH", 3)
    assert export_zip(alice) == whole


def test_more_than_a_batch_with_history_round_trips_on_postgresql(app, factory: Factory) -> None:
    # notes.json is read as a stream, twice: the second reading writes batch by batch.
    revision = {
        "note_version": 1,
        "saved_at": "2026-01-01T00:00:00+00:00",
        "title": "before",
        "content": "older text",
        "tags": ["old"],
        "created_at": "2026-01-01T00:00:00+00:00",
        "last_save_at": "2026-01-01T00:00:00+00:00",
    }
    notes = [
        exported_note(title=f"Note {i}", content=f"text {i}", tags=[f"t{i % 5}"], revisions=[revision])
        for i in range(IMPORT_BATCH + 50)
    ]
    alice, bob = factory.user("alice@example.com"), factory.user("bob@example.com")
    assert import_zip(alice, export_archive(notes)).count == IMPORT_BATCH + 50
    first = export_zip(alice)
    assert import_zip(bob, first).count == IMPORT_BATCH + 50
    assert export_zip(bob) == first
    versions = db.session.scalars(sa.select(Note.version).where(Note.owner_id == bob.id)).all()
    assert versions == [2] * (IMPORT_BATCH + 50)
