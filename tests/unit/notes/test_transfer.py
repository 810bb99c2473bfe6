"""Export and import: a byte-for-byte round trip, and bad archives refused whole."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.exc import SAWarning

from app.models import Note, Tag, db
from app.notes import transfer
from app.notes.service import update_note
from app.notes.tags import assign_tags
from app.notes.transfer import ImportError_, export_zip, import_zip

T0 = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def notebook(factory, user):
    notes = [
        factory.note(user, title="Groceries", content="- [ ] milk\n- [x] eggs\n", pinned=True),
        factory.note(user, title="日记 ✨", content="今天很好 🌸\n\n| a | b |\n|---|---|\n| 1 | 2 |", archived=True),
        factory.note(user, title="Old", content="in the trash", deleted_at=T0 + timedelta(days=3)),
        factory.note(user, title="Groceries", content="same title, second note"),
        factory.note(user, title="Quotes", content="---\nnot: front matter\n---\n'; DROP TABLE notes; --"),
    ]
    for n, note in enumerate(notes):
        note.created_at = T0 + timedelta(hours=n)
        note.updated_at = T0 + timedelta(hours=n, minutes=5)
    assign_tags(notes[0], ["home", "Shopping"])
    assign_tags(notes[1], ["journal"])
    db.session.commit()
    for n, note in enumerate(notes):  # assign_tags touched updated_at
        note.updated_at = T0 + timedelta(hours=n, minutes=5)
    db.session.commit()
    return notes


def _snapshot(user) -> list[tuple]:  # type: ignore[no-untyped-def]
    notes = db.session.scalars(sa.select(Note).where(Note.owner_id == user.id).order_by(Note.created_at)).all()
    return [
        (
            n.title,
            n.content,
            n.pinned,
            n.archived,
            n.created_at,
            n.updated_at,
            n.deleted_at,
            sorted(t.name for t in n.tags),
        )
        for n in notes
    ]


def test_round_trip_is_byte_for_byte(factory, user, notebook):
    first = export_zip(user)
    newcomer = factory.user("newcomer@example.com")
    assert import_zip(newcomer, first).count == 5
    assert _snapshot(newcomer) == _snapshot(user)
    assert export_zip(newcomer) == first


def test_the_zip_has_a_markdown_file_per_note_with_front_matter(user, notebook):
    archive = zipfile.ZipFile(io.BytesIO(export_zip(user)))
    names = archive.namelist()
    assert names[-1] == "notes.json"
    markdown = [n for n in names if n.endswith(".md")]
    assert len(markdown) == 5 and len(set(markdown)) == 5  # two "Groceries", two files
    text = archive.read("notes/2026-03-01-groceries.md").decode()
    _, header, body = text.split("---\n", 2)
    front = yaml.safe_load(header)
    assert front == {
        "title": "Groceries",
        "tags": ["home", "Shopping"],
        "pinned": True,
        "archived": False,
        "created_at": "2026-03-01T09:30:15.123456+00:00",
        "updated_at": "2026-03-01T09:35:15.123456+00:00",
    }
    assert body == "\n- [ ] milk\n- [x] eggs\n"
    index = json.loads(archive.read("notes.json"))
    assert index["format"] == "notes-export" and len(index["notes"]) == 5


def _zip(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _index(notes: list[dict]) -> str:
    return json.dumps({"format": "notes-export", "version": 1, "notes": notes})


GOOD = {
    "title": "ok",
    "content": "fine",
    "tags": [],
    "pinned": False,
    "archived": False,
    "created_at": "2026-01-01T00:00:00+00:00",
    "updated_at": "2026-01-01T00:00:00+00:00",
    "deleted_at": None,
}


def _bomb() -> bytes:
    return _zip({"notes.json": _index([GOOD]), "notes/bomb.md": b"\0" * (5 * 1024 * 1024)})


BAD = [
    (b"not a zip at all", "Notes cannot read this file"),
    (_zip({"photo.jpg": b"\xff\xd8", "doc.pdf": b"%PDF"}), "Notes cannot read this file"),
    (_zip({"a.md": "fine", "../evil.md": "x"}), "Unsafe path"),
    (_zip({"Keep/a.json": json.dumps({"title": "t", "textContent": "x\u0000y"})}), "Note 1: the content"),
    (_zip({"notes.json": _index([GOOD]), "../evil.md": "x"}), "Unsafe path"),
    (_zip({"notes.json": _index([GOOD]), "/etc/passwd": "x"}), "Unsafe path"),
    (_zip({"notes.json": b"\xff\xfe not utf-8"}), "not UTF-8"),
    (_zip({"notes.json": "{not json"}), "not valid JSON"),
    (_zip({"notes.json": json.dumps({"format": "other"})}), "not a Notes export"),
    (_zip({"notes.json": _index([GOOD, {**GOOD, "title": ""}])}), "Note 2: the title"),
    (_zip({"notes.json": _index([{**GOOD, "created_at": "yesterday"}])}), "created_at"),
    (_zip({"notes.json": _index([{**GOOD, "created_at": "2026-01-01T00:00:00"}])}), "time zone"),
    (_zip({"notes.json": _index([{**GOOD, "tags": ["a,b"]}])}), "commas"),
    (_zip({"notes.json": _index([{**GOOD, "pinned": "yes"}])}), "pinned"),
    (_zip({"notes.json": _index([{**GOOD, "content": "x" * 100_001}])}), "content"),
    (_zip({"notes.json": "[" * 100_000 + "]" * 100_000}), "nested too deeply"),
    (_zip({"notes.json": _index([GOOD]).replace('"pinned": false', '"pinned": ' + "9" * 5000)}), "too many digits"),
    (_zip({"notes.json": _index([GOOD]).replace('"ok"', '"\\ud800"')}), "lone UTF-16 surrogate"),
    (_zip({"notes.json": _index([{**GOOD, "tags": ["TAG"]}]).replace('"TAG"', '"\\udfff"')}), "surrogate"),
    (_zip({"notes.json": _index([{**GOOD, "created_at": "0001-01-01T00:00:00+14:00"}])}), "created_at is out of range"),
]


@pytest.mark.parametrize(("data", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_archives_import_nothing(user, data, message):
    with pytest.raises(ImportError_, match=message):
        import_zip(user, data)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Tag)) == 0


def test_a_zip_bomb_is_refused_before_it_is_expanded(app, user):
    app.config["IMPORT_MAX_BYTES"] = 256 * 1024  # the text may expand to five times that
    data = _bomb()
    assert len(data) < 100_000  # 5 MiB of zeros in a small file
    with pytest.raises(ImportError_, match="zip bomb"):
        import_zip(user, data)


def test_a_damaged_archive_is_refused(user):
    data = bytearray(_zip({"notes.json": _index([GOOD] * 50)}))
    middle = len(data) // 3
    data[middle : middle + 40] = b"\xde\xad" * 20
    with pytest.raises(ImportError_, match=r"damaged|cannot read this file|not UTF-8|not valid JSON"):
        import_zip(user, bytes(data))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0


def test_a_markdown_zip_bomb_is_refused_too(app, user):
    app.config["IMPORT_MAX_BYTES"] = 256 * 1024
    with pytest.raises(ImportError_, match="zip bomb"):
        import_zip(user, _zip({"a.md": "fine", "b.md": "x" * (2 * 1024 * 1024)}))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0


def test_an_archive_over_the_size_limit_is_refused(user, app):
    app.config["IMPORT_MAX_BYTES"] = 100
    app.config["ATTACHMENT_QUOTA_BYTES"] = 0  # the archive may be larger by a full quota of files
    with pytest.raises(ImportError_, match="larger than"):
        import_zip(user, _zip({"notes.json": _index([GOOD] * 5)}))


def test_a_failure_halfway_through_writing_rolls_everything_back(user, monkeypatch):
    # The notes and their new tag are written when linking them fails.
    def fail(pairs):  # type: ignore[no-untyped-def]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 3
        raise RuntimeError("disk full")

    monkeypatch.setattr("app.notes.transfer._link_tags", fail)
    with pytest.raises(RuntimeError):
        import_zip(user, _zip({"notes.json": _index([{**GOOD, "tags": ["new"]}] * 3)}))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Tag)) == 0


def test_a_rejected_import_leaves_nothing_for_a_later_commit(factory, user):
    # SQLAlchemy warns when a note is half-attached to the user (in
    # user.notes but not in the session): that is the state to avoid.
    with warnings.catch_warnings():
        warnings.simplefilter("error", SAWarning)
        with pytest.raises(ImportError_):
            import_zip(user, _zip({"notes.json": _index([GOOD, {**GOOD, "title": ""}])}))
        factory.note(user, title="written afterwards")  # commits the session
    assert [n.title for n in db.session.scalars(sa.select(Note))] == ["written afterwards"]


def test_import_adds_to_existing_notes(factory, user):
    factory.note(user, title="already here")
    import_zip(user, _zip({"notes.json": _index([GOOD])}))
    assert sorted(n.title for n in user.notes) == ["already here", "ok"]


def test_an_encrypted_archive_is_refused_with_a_reason(user):
    data = bytearray(_zip({"notes.json": _index([GOOD])}))
    # Set the "encrypted" bit in the entry's local and central headers, as an
    # encrypting zip tool writes it: zipfile then asks for a password.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature) + offset
        data[at] |= 0x1
    with pytest.raises(ImportError_, match="encrypted"):
        import_zip(user, bytes(data))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0


def test_history_travels_in_notes_json_and_comes_back_whole(factory, user, notebook):
    from app.models import NoteRevision
    from app.notes.service import update_note

    note = notebook[4]
    update_note(note, {"content": "second text", "tags": ["quotes"]})
    update_note(note, {"title": "Quotes, renamed"})  # folds into the revision above (same client, same minute)
    history = db.session.scalars(sa.select(NoteRevision).where(NoteRevision.note_id == note.id)).all()
    assert history
    first = export_zip(user)
    index = json.loads(zipfile.ZipFile(io.BytesIO(first)).read("notes.json"))
    with_history = [r for r in index["notes"] if "revisions" in r]
    assert [r["title"] for r in with_history] == ["Quotes, renamed"]
    assert with_history[0]["revisions"][0]["content"].startswith("---\nnot: front matter")

    newcomer = factory.user("newcomer@example.com")
    import_zip(newcomer, first)
    moved = db.session.scalars(
        sa.select(Note).where(Note.owner_id == newcomer.id, Note.title == "Quotes, renamed")
    ).one()
    copied = db.session.scalars(sa.select(NoteRevision).where(NoteRevision.note_id == moved.id)).all()
    assert [(r.note_version, r.title, r.content, r.tags, r.saved_at) for r in copied] == [
        (r.note_version, r.title, r.content, r.tags, r.saved_at) for r in history
    ]
    assert all(r.author_id == newcomer.id for r in copied)
    assert moved.version == max(r.note_version for r in copied) + 1
    assert export_zip(newcomer) == first


BAD_HISTORY = [
    ("not a list", "revisions must be a list"),
    (["x"], "revision 1 is not an object"),
    ([{"title": "", "content": "c", "tags": [], "note_version": 1}], "revision 1: the title"),
    ([{"title": "t", "content": "c", "tags": ["a,b"], "note_version": 1}], "commas"),
    ([{"title": "t", "content": "c", "tags": [], "note_version": 0}], "note_version"),
    ([{"title": "t", "content": "c", "tags": [], "note_version": True}], "note_version"),
    ([{"title": "t", "content": "c", "tags": [], "note_version": 1, "saved_at": "then"}], "saved_at"),
]


@pytest.mark.parametrize(("revisions", "message"), BAD_HISTORY, ids=[m for _, m in BAD_HISTORY])
def test_a_bad_revision_imports_nothing(user, revisions, message):
    with pytest.raises(ImportError_, match=message):
        import_zip(user, _zip({"notes.json": _index([GOOD, {**GOOD, "revisions": revisions}])}))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0


def _tricky_notebook(factory, user) -> None:  # type: ignore[no-untyped-def]
    """Notes whose order and file names test the export's batches: ties on the time broken by
    title and text in code point order, and one day's names clashing across batches."""
    same = T0 + timedelta(days=1)
    titles = ["b", "B", "é", "a", "Z", "ä", "a", "Groceries", "Groceries", "groceries!", "Groceries"]
    for n, title in enumerate(titles):
        note = factory.note(user, title=title, content=f"text {len(titles) - n}", pinned=n % 2 == 0)
        note.created_at = same
        note.updated_at = same + timedelta(minutes=n)
        if n % 3 == 0:
            assign_tags(note, ["t", title])
    db.session.commit()
    for note in db.session.scalars(sa.select(Note).where(Note.owner_id == user.id, Note.title.in_(["b", "Z"]))):
        update_note(note, {"content": f"{note.content}, edited"})  # a history, in its batch


def test_an_export_of_more_notes_than_a_batch_is_whole_and_the_same(factory, user, notebook, monkeypatch):
    _tricky_notebook(factory, user)
    whole = export_zip(user)
    monkeypatch.setattr("app.notes.transfer.EXPORT_BATCH", 2)
    assert export_zip(user) == whole
    archive = zipfile.ZipFile(io.BytesIO(whole))
    index = json.loads(archive.read("notes.json"))
    assert len(index["notes"]) == 16 == len([n for n in archive.namelist() if n.endswith(".md")])
    # In the order the export always had: time, then title and text by code point.
    keys = [(r["created_at"], r["title"], r["content"]) for r in index["notes"]]
    assert keys == sorted(keys)
    # Same-day notes of one title get -2, -3... whichever batch they fall in.
    day = [n for n in archive.namelist() if n.startswith("notes/2026-03-02-groceries")]
    assert set(day) == {f"notes/2026-03-02-groceries{s}.md" for s in ("", "-2", "-3", "-4")}
    assert sum(len(r.get("revisions", [])) for r in index["notes"]) >= 2


@pytest.mark.parametrize("count", [0, 1, 3])
def test_notes_json_is_the_whole_index_dumped_at_once(factory, user, count, monkeypatch):
    monkeypatch.setattr("app.notes.transfer.EXPORT_BATCH", 2)
    for n in range(count):
        factory.note(user, title=f"n{n} «ü»", content='quote " and \\ and\nnewline')
    raw = zipfile.ZipFile(io.BytesIO(export_zip(user))).read("notes.json").decode()
    assert raw == json.dumps(json.loads(raw), ensure_ascii=False, indent=2) + "\n"
    assert len(json.loads(raw)["notes"]) == count


def test_the_number_of_notes_an_import_may_hold_is_a_setting(app, factory, user):
    archive = _zip({"notes.json": _index([GOOD] * 3)})
    app.config["IMPORT_MAX_NOTES"] = 2
    with pytest.raises(ImportError_, match="at most 2 notes"):
        import_zip(user, archive)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0
    app.config["IMPORT_MAX_NOTES"] = 3
    assert import_zip(user, archive).count == 3


def test_an_import_may_have_twice_as_many_entries_as_notes(app, user):
    app.config["IMPORT_MAX_NOTES"] = 1
    archive = _zip({"notes.json": _index([GOOD]), "notes/a.md": "a", "notes/b.md": "b"})
    with pytest.raises(ImportError_, match="more than 2 files"):
        import_zip(user, archive)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0


def test_an_import_of_more_notes_than_a_batch_comes_back_whole(factory, user, notebook, monkeypatch):
    _tricky_notebook(factory, user)
    first = export_zip(user)
    monkeypatch.setattr("app.notes.transfer.IMPORT_BATCH", 3)
    newcomer = factory.user("newcomer@example.com")
    assert import_zip(newcomer, io.BytesIO(first)).count == 16  # a file, as the views pass it
    assert _snapshot(newcomer) == _snapshot(user)
    assert export_zip(newcomer) == first


def test_a_failure_in_a_later_batch_rolls_back_the_earlier_ones(user, monkeypatch):
    monkeypatch.setattr("app.notes.transfer.IMPORT_BATCH", 2)
    real = transfer._link_tags
    calls = []

    def fail_second(pairs):  # type: ignore[no-untyped-def]
        calls.append(len(pairs))
        if len(calls) == 2:
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 4
            raise RuntimeError("disk full")
        real(pairs)

    monkeypatch.setattr("app.notes.transfer._link_tags", fail_second)
    with pytest.raises(RuntimeError):
        import_zip(user, _zip({"notes.json": _index([{**GOOD, "tags": ["new"]}] * 5)}))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Tag)) == 0


def test_an_upload_is_spooled_to_disk_up_to_one_byte_past_the_limit(app):
    app.config["IMPORT_MAX_BYTES"], app.config["ATTACHMENT_QUOTA_BYTES"] = 1000, 0
    with transfer.spool_upload(io.BytesIO(b"x" * 5000)) as spooled:
        assert spooled.fileno() >= 0 and spooled.read() == b"x" * 1001
    with transfer.spool_upload(io.BytesIO(b"zip")) as spooled:
        assert spooled.read() == b"zip"


FRONT_TEXT = [
    *("a", "Yes", "yes", "NO", "on", "Off", "null", "Null", "~", "y", "N", "true", "False", "Groceries", "Buy  milk"),
    *("Buy milk ", " Buy", "Plan: later", "Plan #2", "# heading", "- item", "'quoted'", '"dq"', "2026-01-01", "12"),
    *("0x1F", ".inf", "1e3", "Ünïcödé", "日记 ✨", "a\tb", "x" * 200, "Release v2 0", "Z9", "a b c d", "@home", "%x"),
    *("!tag", "&anchor", "*alias", "|", ">", "?", "[x]", "{y}", "a,b", "<<", "="),
]


def test_the_front_matter_is_what_yaml_writes(user):
    import random

    import yaml

    rng = random.Random(17)
    times = ["2026-03-01T09:30:15.123456+00:00", "2026-03-01T09:30:15+00:00", "2026-03-01T09:30:15.123456+02:00",
             "2026-03-01 09:30:15+00:00"]  # fmt: skip
    alphabet = "aAzZ09 :#-'\"\\\n\t.,!?@&*|>%é日✨\u2028\x85"
    texts = FRONT_TEXT + ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(1500)]
    for n, title in enumerate(texts):
        front = {
            "title": title,
            "tags": rng.sample(FRONT_TEXT, rng.randint(0, 3)),
            "pinned": n % 2 == 0,
            "archived": n % 3 == 0,
            "created_at": rng.choice(times),
            "updated_at": rng.choice(times),
        }
        if n % 5 == 0:
            front["deleted_at"] = rng.choice(times)
        assert transfer._front_matter(front) == yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)


def test_an_upload_cut_off_midway_leaves_no_temporary_file(app, monkeypatch):
    made = []
    real = transfer.tempfile.TemporaryFile

    def tracked(*args, **kwargs):  # type: ignore[no-untyped-def]
        made.append(real(*args, **kwargs))
        return made[-1]

    class Gone(io.RawIOBase):
        def read(self, size=-1):  # type: ignore[no-untyped-def]
            raise ConnectionResetError("the client went away")

    monkeypatch.setattr(transfer.tempfile, "TemporaryFile", tracked)
    with pytest.raises(ConnectionResetError):
        transfer.spool_upload(Gone())
    assert len(made) == 1 and made[0].closed
