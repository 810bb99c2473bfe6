"""A Notes export's notes.json is read as a stream, twice: every note checked, then written batch by batch.

What that must not change: a bad note anywhere refuses the whole import with the
message it always had, a history and files survive past the first batch, and a
broken notes.json is named with the line json.loads would name.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
import sqlalchemy as sa
from tests.helpers.data import export_archive, exported_note
from tests.helpers.images import png

from app.models import Attachment, Note, NoteRevision, db
from app.notes import jsonstream, transfer
from app.notes.transfer import ImportError_, export_zip, import_zip

MORE_THAN_A_BATCH = transfer.IMPORT_BATCH + 200


@pytest.fixture(autouse=True)
def _small_pieces(monkeypatch):
    # notes.json is read in pieces much smaller than these archives, so that
    # notes and numbers are cut by the end of what was read.
    monkeypatch.setattr(jsonstream, "CHUNK", 512)


def _zip(index_text: str, files: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.json", index_text)
        for name, data in (files or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _index(notes: list[object], **head: object) -> str:
    return json.dumps({"format": "notes-export", "version": 1, **head, "notes": notes}, indent=2)


def _many(n: int) -> list[dict[str, object]]:
    return [exported_note(title=f"Note {i}", content=f"text {i} é😀", tags=[f"t{i % 7}"]) for i in range(n)]


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Note))


def test_a_bad_note_after_the_first_batch_refuses_the_import_and_writes_nothing(app, user) -> None:
    notes = _many(MORE_THAN_A_BATCH)
    notes[transfer.IMPORT_BATCH + 100]["title"] = 5
    with pytest.raises(ImportError_) as refused:
        import_zip(user, export_archive(notes))
    assert str(refused.value) == f"Note {transfer.IMPORT_BATCH + 101}: the title must be text."
    assert _count() == 0


def test_a_bad_revision_in_the_last_note_refuses_the_import_and_writes_nothing(app, user) -> None:
    notes = _many(MORE_THAN_A_BATCH)
    notes[-1]["revisions"] = [{"note_version": 0, "title": "t", "content": "", "tags": []}]
    with pytest.raises(ImportError_, match=f"Note {MORE_THAN_A_BATCH}, revision 1: note_version"):
        import_zip(user, export_archive(notes))
    assert _count() == 0


def test_more_notes_than_allowed_are_refused_even_when_each_is_sound(app, user, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "IMPORT_MAX_NOTES", transfer.IMPORT_BATCH)
    with pytest.raises(ImportError_, match=f"at most {transfer.IMPORT_BATCH} notes"):
        import_zip(user, export_archive(_many(transfer.IMPORT_BATCH + 1)))
    assert _count() == 0


def test_more_than_a_batch_with_history_and_files_round_trips(app, factory) -> None:
    image = png()
    key = "k" * 22
    notes = _many(MORE_THAN_A_BATCH)
    last = notes[-1]
    last["content"] = f"![pic](attachment:{key})"
    last["revisions"] = [
        {
            "note_version": 1,
            "saved_at": "2026-01-01T00:00:00+00:00",
            "title": "first",
            "content": f"before ![pic](attachment:{key})",
            "tags": ["old"],
            "created_at": "2026-01-01T00:00:00+00:00",
            "last_save_at": "2026-01-01T00:00:00+00:00",
        }
    ]
    last["attachments"] = [
        {
            "key": key,
            "filename": "pic.png",
            "content_type": "image/png",
            "size": len(image),
            "sha256": hashlib.sha256(image).hexdigest(),
            "created_at": "2026-01-01T00:00:00+00:00",
            "path": f"files/{key}/pic.png",
        }
    ]
    first, second = factory.user(), factory.user()
    assert import_zip(first, _zip(_index(notes), {f"files/{key}/pic.png": image})).count == MORE_THAN_A_BATCH
    exported = export_zip(first)
    assert import_zip(second, exported).count == MORE_THAN_A_BATCH

    # The key is taken by the first import's file: the second gives it a new one, and the links follow.
    note = db.session.scalars(sa.select(Note).where(Note.owner_id == second.id, Note.title == last["title"])).one()
    attachment = db.session.scalars(sa.select(Attachment).where(Attachment.note_id == note.id)).one()
    assert attachment.key != key and note.content == f"![pic](attachment:{attachment.key})" and note.version == 2
    revision = db.session.scalars(sa.select(NoteRevision).where(NoteRevision.note_id == note.id)).one()
    assert revision.content == f"before ![pic](attachment:{attachment.key})"
    before, after = (zipfile.ZipFile(io.BytesIO(z)) for z in (exported, export_zip(second)))
    assert after.read("notes.json").decode() == before.read("notes.json").decode().replace(key, attachment.key)
    assert after.read(f"files/{attachment.key}/pic.png") == image
    assert len(after.namelist()) == len(before.namelist()) == MORE_THAN_A_BATCH + 2


@pytest.mark.parametrize("cut", [0.3, 0.77, 0.999])
def test_a_cut_short_notes_json_is_named_with_the_line_json_loads_names(app, user, cut: float) -> None:
    text = _index(_many(MORE_THAN_A_BATCH))
    text = text[: int(len(text) * cut)]
    with pytest.raises(json.JSONDecodeError) as parsing:
        json.loads(text)
    with pytest.raises(ImportError_) as refused:
        import_zip(user, _zip(text))
    assert str(refused.value) == f"notes.json is not valid JSON (line {parsing.value.lineno})."
    assert parsing.value.lineno > 1000
    assert _count() == 0


def test_text_after_the_index_is_invalid_json(app, user) -> None:
    text = _index([exported_note()]) + "\n[]"
    with pytest.raises(json.JSONDecodeError, match="Extra data") as parsing:
        json.loads(text)
    with pytest.raises(ImportError_) as refused:
        import_zip(user, _zip(text))
    assert str(refused.value) == f"notes.json is not valid JSON (line {parsing.value.lineno})."
    assert _count() == 0


def test_a_lone_surrogate_far_into_notes_json_is_refused(app, user) -> None:
    notes = _many(MORE_THAN_A_BATCH)
    text = _index(notes).replace('"Note 1100"', '"Note \\ud800"')
    with pytest.raises(ImportError_, match="cannot be imported: A string holds a lone UTF-16 surrogate"):
        import_zip(user, _zip(text))
    assert _count() == 0


def test_bytes_that_are_not_utf8_far_into_notes_json_are_refused(app, user) -> None:
    raw = _index(_many(MORE_THAN_A_BATCH)).encode().replace(b"Note 1100", b"Note \xff")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.json", raw)
    with pytest.raises(ImportError_, match=r"notes\.json is not UTF-8 text"):
        import_zip(user, buffer.getvalue())
    assert _count() == 0


def test_notes_before_the_format_are_imported_once_it_is_known(app, user) -> None:
    notes = _many(3)
    text = json.dumps({"notes": notes, "format": "notes-export", "version": 1})
    assert import_zip(user, _zip(text)).count == 3
    assert sorted(db.session.scalars(sa.select(Note.title))) == ["Note 0", "Note 1", "Note 2"]


def test_notes_before_a_wrong_format_are_refused_as_not_an_export(app, user) -> None:
    text = json.dumps({"notes": [{"title": 5}], "format": "notes-export", "version": 2})
    with pytest.raises(ImportError_, match="is not a Notes export"):
        import_zip(user, _zip(text))


def test_a_second_list_of_notes_is_refused(app, user) -> None:
    # json.loads keeps the last of two "notes"; read as a stream, the first is gone by then.
    text = _index([exported_note(title="one")])[:-1] + ', "notes": [' + json.dumps(exported_note(title="two")) + "]}"
    with pytest.raises(ImportError_, match=r"notes\.json has more than one list of notes"):
        import_zip(user, _zip(text))
    assert _count() == 0
