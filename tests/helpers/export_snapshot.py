"""An export that another request changes the account under, between two of its batches.

Shared by the SQLite (integration) and PostgreSQL (e2e) tests: both need an
app whose commits are real and whose sessions use connections of their own.
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from typing import Any

import pytest
from flask import Flask
from tests.helpers.api import API
from tests.helpers.data import Factory
from tests.helpers.web import bearer

import app.notes.transfer as transfer
from app.models import Note, User, db
from app.notes.attachments import add_attachment
from app.notes.service import purge_note, trash_note, update_note


def export_while_another_request_changes_it(app: Flask, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Alice's export (GET /api/v1/export), one note per batch. Before its first batch is read, another thread
    (its own app context, session and connection) purges her trashed note, which has a file,
    renames another and adds a third. Returns the export's notes.json and its file names."""
    with app.app_context():
        factory = Factory()
        alice = factory.user("alice@example.com")
        kept = factory.note(alice, title="kept")
        renamed = factory.note(alice, title="before the rename")
        doomed = factory.note(alice, title="purged meanwhile")
        add_attachment(doomed, "doomed.txt", b"the purged note's file")
        trash_note(doomed)
        _, secret = factory.token(alice)
        alice_id, ids = alice.id, (kept.id, renamed.id, doomed.id)

    failed: list[BaseException] = []

    def another_request() -> None:
        try:
            with app.app_context():
                # Added first: SQLite gives a new row the highest id plus one, the purged note's.
                Factory().note(db.session.get(User, alice_id), title="added meanwhile")
                update_note(db.session.get(Note, ids[1]), {"title": "after the rename"})
                purge_note(db.session.get(Note, ids[2]))
        except BaseException as exc:  # reported by the test, in its own thread
            failed.append(exc)

    real_batch = transfer._export_batch
    changed: list[bool] = []

    def batch_after_the_change(batch: list[int]) -> Any:
        if not changed:
            thread = threading.Thread(target=another_request)
            thread.start()
            thread.join(timeout=30)
            assert not failed, f"the other request failed: {failed[0]!r}"
            with app.app_context():  # the change is committed: a fresh session sees it
                changed.append(db.session.get(Note, ids[2]) is None)
        return real_batch(batch)

    monkeypatch.setattr(transfer, "EXPORT_BATCH", 1)
    monkeypatch.setattr(transfer, "_export_batch", batch_after_the_change)
    # Through the API, as a client asks for it: on PostgreSQL a GET reads in autocommit
    # (app/db/session.py), and the snapshot must replace that.
    response = app.test_client().get(f"{API}/export", headers=bearer(secret))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    data = response.get_data()
    assert changed == [True], "the other request did not purge the note before the export's first batch"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        index = json.loads(archive.read("notes.json"))
        files = [name for name in archive.namelist() if name.startswith("files/")]
    return {"notes": index["notes"], "files": files}


def assert_one_snapshot(exported: dict[str, Any]) -> None:
    """The export is the account as it was when the export began, files included."""
    notes = exported["notes"]
    titles = sorted(note["title"] for note in notes)
    assert titles == ["before the rename", "kept", "purged meanwhile"], f"the export held {titles}"
    referenced = {f"files/{item['key']}/{item['filename']}" for note in notes for item in note.get("attachments", [])}
    assert exported["files"] and set(exported["files"]) == referenced, (exported["files"], referenced)
