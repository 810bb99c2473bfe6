"""Files on notes on PostgreSQL: the API round trip, the quota under concurrent uploads, and bytes that follow rows."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tests.helpers.data import Factory
from tests.helpers.e2e import API, count
from tests.helpers.images import jpeg_with_location, location_of

from app.models import Attachment, Note, User, db
from app.notes.attachments import AttachmentError, add_attachment
from app.notes.service import purge_note, trash_note

pytestmark = pytest.mark.e2e


def stored(app: Flask) -> list[Path]:
    return sorted(p for p in Path(app.config["ATTACHMENTS_DIR"]).glob("??/*") if not p.name.startswith("."))


def test_upload_download_and_purge_through_the_api(app: Flask, client: FlaskClient, factory: Factory) -> None:
    alice = factory.user("alice@example.com")
    note = factory.note(alice, title="On PostgreSQL")
    _, secret = factory.token(alice)
    headers = {"Authorization": f"Bearer {secret}"}
    made = client.post(
        f"{API}/notes/{note.id}/attachments",
        data={"file": (io.BytesIO(jpeg_with_location()), "photo.jpg")},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    body = made.get_json()
    content = client.get(body["content_url"], headers=headers)
    assert content.status_code == 200 and location_of(content.data) == {}
    assert count(Attachment, Attachment.owner_id == alice.id) == 1

    trash_note(db.session.get(Note, note.id))
    purge_note(db.session.get(Note, note.id))
    assert count(Attachment) == 0
    assert body["key"] not in {p.name for p in stored(app)}


def test_a_deleted_account_takes_its_files_bytes_with_it(app: Flask, factory: Factory) -> None:
    bob = factory.user("bob@example.com")
    key = add_attachment(factory.note(bob, title="Bob's"), "b.txt", b"bob's file").key
    assert key in {p.name for p in stored(app)}
    db.session.delete(db.session.get(User, bob.id))
    db.session.commit()
    assert key not in {p.name for p in stored(app)} and count(Attachment) == 0


def test_two_uploads_at_once_cannot_both_squeeze_under_the_quota(committed_app: Callable[[], Flask]) -> None:
    app = committed_app()
    app.config["ATTACHMENT_QUOTA_BYTES"] = 1500
    with app.app_context():
        factory = Factory()
        note_id = factory.note(factory.user("carol@example.com"), title="Carol's").id
    ready = threading.Barrier(2, timeout=15)
    results: list[str] = []

    def upload(n: int) -> None:
        with app.app_context():
            note = db.session.get(Note, note_id)
            assert note is not None
            ready.wait()
            try:
                add_attachment(note, f"{n}.bin", bytes([n]) * 1000)
                results.append("stored")
            except AttachmentError as exc:
                assert exc.status == 413
                results.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=upload, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["refused", "stored"]
    with app.app_context():
        assert count(Attachment) == 1
    assert len(stored(app)) == 1  # the refused upload left no bytes behind
