"""Attachments in the export zip and back through import, byte for byte."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from tests.helpers.images import jpeg_with_location, location_of, png

from app.models import Attachment, Note, db
from app.notes.attachments import add_attachment
from app.notes.service import update_note
from app.notes.transfer import ImportError_, export_zip, import_zip


def stored(app: Flask) -> list[Path]:
    return sorted(p for p in Path(app.config["ATTACHMENTS_DIR"]).glob("??/*") if not p.name.startswith("."))


def _notebook(factory):
    user = factory.user("alice@example.com")
    note = factory.note(user, title="Trip report")
    photo = add_attachment(note, "beach photo.jpg", jpeg_with_location())
    doc = add_attachment(note, "plan.pdf", b"%PDF-1.4 plan")
    update_note(note, {"content": f"![beach](attachment:{photo.key})\n\nSee [the plan](attachment:{doc.key})."})
    return user, note, photo, doc


def test_the_export_holds_the_files_beside_the_markdown_with_links_rewritten(app, factory):
    user, _, photo, doc = _notebook(factory)
    archive = zipfile.ZipFile(io.BytesIO(export_zip(user)))
    names = archive.namelist()
    assert f"files/{photo.key}/beach photo.jpg" in names and f"files/{doc.key}/plan.pdf" in names
    assert archive.read(f"files/{photo.key}/beach photo.jpg") == (
        Path(stored(app)[0]).read_bytes() if stored(app)[0].name == photo.key else Path(stored(app)[1]).read_bytes()
    )
    markdown = archive.read(next(n for n in names if n.startswith("notes/"))).decode()
    assert f"![beach](../files/{photo.key}/beach%20photo.jpg)" in markdown
    assert f"[the plan](../files/{doc.key}/plan.pdf)" in markdown
    record = json.loads(archive.read("notes.json"))["notes"][0]
    assert f"attachment:{photo.key}" in record["content"]  # notes.json keeps the app's own links
    assert [(a["key"], a["filename"], a["content_type"]) for a in record["attachments"]] == [
        (photo.key, "beach photo.jpg", "image/jpeg"),
        (doc.key, "plan.pdf", "application/pdf"),
    ]


def test_deleting_the_account_then_importing_brings_the_files_back_byte_for_byte(app, factory):
    user, _, photo, doc = _notebook(factory)
    before = {a.key: (a.sha256, a.size, a.filename) for a in db.session.scalars(sa.select(Attachment))}
    exported = export_zip(user)
    db.session.delete(user)
    db.session.commit()
    assert stored(app) == []

    again = factory.user("alice@example.com")
    assert import_zip(again, exported).count == 1
    after = {a.key: (a.sha256, a.size, a.filename) for a in db.session.scalars(sa.select(Attachment))}
    assert after == before  # same keys, so the note's links still work
    note = db.session.scalars(sa.select(Note)).one()
    assert f"attachment:{photo.key}" in note.content
    assert {p.name for p in stored(app)} == {photo.key, doc.key}
    for path in stored(app):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before[path.name][0]
    assert export_zip(again) == exported  # and the same export again


def test_importing_beside_the_originals_gives_new_keys_and_rewrites_the_links(app, factory):
    user, note, photo, _ = _notebook(factory)
    revision_content = note.content
    update_note(note, {"content": note.content + "\n\nMore."})  # a revision that links to the files too
    exported = export_zip(user)
    import_zip(user, exported)

    copy = db.session.scalars(sa.select(Note).where(Note.id != note.id)).one()
    keys = {a.key for a in db.session.scalars(sa.select(Attachment).where(Attachment.note_id == copy.id))}
    assert len(keys) == 2 and photo.key not in keys
    assert all(f"attachment:{k}" in copy.content for k in keys) and f"attachment:{photo.key}" not in copy.content
    revision = db.session.execute(sa.text("SELECT content FROM note_revisions WHERE note_id = :id"), {"id": copy.id})
    old_text = [row[0] for row in revision]
    assert old_text and f"attachment:{photo.key}" not in " ".join(old_text) and revision_content not in old_text
    assert len(stored(app)) == 4


def _export_with(files: dict[str, bytes], attachments: list[dict]) -> bytes:
    record = {
        "title": "T",
        "content": "x",
        "tags": [],
        "pinned": False,
        "archived": False,
        "created_at": "2025-01-01T00:00:00+00:00",
        "updated_at": "2025-01-01T00:00:00+00:00",
        "deleted_at": None,
        "attachments": attachments,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.json", json.dumps({"format": "notes-export", "version": 1, "notes": [record]}))
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _file(data: bytes, path: str = "files/k/a.png", **overrides) -> dict:
    return {
        "key": "AAAAAAAAAAAAAAAAAAAAAA",
        "filename": "a.png",
        "sha256": hashlib.sha256(data).hexdigest(),
        "created_at": "2025-01-01T00:00:00+00:00",
        "path": path,
        **overrides,
    }


@pytest.mark.parametrize(
    ("files", "attachments", "message"),
    [
        ({}, [_file(png())], "its path is not in the archive"),
        ({"files/k/a.png": png()}, [_file(b"other")], "not the file that was exported"),
        ({"files/k/a.png": png()}, "nope", "attachments must be a list"),
        ({"files/k/a.png": png()}, [_file(png(), filename=3)], "key and filename must be text"),
        ({"files/k/a.png": b""}, [_file(b"")], "The file is empty"),
    ],
)
def test_a_bad_file_in_an_export_imports_nothing(app, factory, files, attachments, message):
    user = factory.user()
    with pytest.raises(ImportError_, match=message):
        import_zip(user, _export_with(files, attachments))
    assert db.session.scalar(sa.select(sa.func.count(Note.id))) == 0 and stored(app) == []


def test_files_over_the_quota_import_nothing_and_leave_no_bytes(app, factory):
    user = factory.user()
    add_attachment(factory.note(user, title="Old"), "old.txt", b"x" * 20)
    app.config["ATTACHMENT_QUOTA_BYTES"] = len(png()) + 10
    with pytest.raises(
        ImportError_, match=r"files do not fit: That would take your attachments past .* \(20 bytes used\)"
    ):
        import_zip(user, _export_with({"files/k/a.png": png()}, [_file(png())]))
    assert db.session.scalar(sa.select(sa.func.count(Note.id))) == 1 and len(stored(app)) == 1
    # More than the whole quota is refused by the sizes the zip declares, before reading them.
    app.config["ATTACHMENT_QUOTA_BYTES"] = len(png()) - 1
    with pytest.raises(ImportError_, match="files come to more than your attachment quota"):
        import_zip(user, _export_with({"files/k/a.png": png()}, [_file(png())]))


def test_a_foreign_photo_in_an_export_loses_its_location_on_import(app, factory):
    photo = jpeg_with_location()
    user = factory.user()
    import_zip(user, _export_with({"files/k/p.jpg": photo}, [_file(photo, "files/k/p.jpg", filename="p.jpg")]))
    data = stored(app)[0].read_bytes()
    assert location_of(data) == {} and data[:2] == b"\xff\xd8"


def test_a_failure_while_writing_removes_the_files_already_stored(app, factory, monkeypatch):
    from app.notes import transfer

    user = factory.user()
    real_store, calls = transfer.store, []

    def store_then_fail(key: str, data: bytes) -> None:
        calls.append(key)
        if len(calls) == 2:
            assert len(stored(app)) == 1  # the first file's bytes were written
            raise OSError("disk full")
        real_store(key, data)

    monkeypatch.setattr(transfer, "store", store_then_fail)
    two = [_file(png()), _file(png(), key="BBBBBBBBBBBBBBBBBBBBBB")]
    with pytest.raises(OSError, match="disk full"):
        import_zip(user, _export_with({"files/k/a.png": png()}, two))
    assert stored(app) == [] and db.session.scalar(sa.select(sa.func.count(Note.id))) == 0
