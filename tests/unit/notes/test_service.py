"""Notes service: the one ownership check, filtered keyset pages, and edits
that refuse to overwrite a newer version."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.http.pagination import CursorError
from app.models import Note, db
from app.notes.service import (
    EditConflict,
    NoteNotFound,
    create_note,
    get_owned_note,
    list_notes,
    restore_note,
    trash_note,
    update_note,
)

T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)


# --- get_owned_note --------------------------------------------------------


def test_get_owned_note_returns_own_note(app, factory, user):
    note = factory.note(user)
    assert get_owned_note(note.id, user) is note


def test_get_owned_note_is_404_for_other_users(app, factory, user):
    theirs = factory.note(factory.user())
    with pytest.raises(NoteNotFound) as info:
        get_owned_note(theirs.id, user)
    assert "belongs to someone else" in str(info.value)


def test_get_owned_note_is_404_for_missing_ids(app, factory, user):
    note = factory.note(user)
    with pytest.raises(NoteNotFound):
        get_owned_note(note.id + 1000, user)


def test_get_owned_note_trashed_filter(app, factory, user):
    live = factory.note(user)
    trashed = factory.note(user, deleted_at=T0)
    assert get_owned_note(live.id, user, trashed=False) is live
    assert get_owned_note(trashed.id, user, trashed=True) is trashed
    assert get_owned_note(trashed.id, user) is trashed
    with pytest.raises(NoteNotFound, match="not in the trash"):
        get_owned_note(live.id, user, trashed=True)
    with pytest.raises(NoteNotFound, match="is in the trash"):
        get_owned_note(trashed.id, user, trashed=False)


# --- list_notes ------------------------------------------------------------


def ids(page) -> list[int]:
    return [note.id for note in page.items]


def test_list_notes_filters(app, factory, user):
    live = factory.note(user)
    pinned = factory.note(user, pinned=True)
    archived = factory.note(user, archived=True)
    trashed = factory.note(user, deleted_at=T0)
    trashed_archived = factory.note(user, archived=True, deleted_at=T0)
    factory.note(factory.user())  # someone else's never shows

    assert set(ids(list_notes(user))) == {live.id, pinned.id}
    assert ids(list_notes(user, archived=True)) == [archived.id]
    assert set(ids(list_notes(user, archived=None))) == {live.id, pinned.id, archived.id}
    assert set(ids(list_notes(user, trashed=True, archived=None))) == {trashed.id, trashed_archived.id}
    assert ids(list_notes(user, trashed=True)) == [trashed.id]
    assert ids(list_notes(user, pinned=True)) == [pinned.id]
    assert ids(list_notes(user, pinned=False)) == [live.id]


def test_list_notes_orders_pinned_first_then_newest(app, factory, user):
    old = factory.note(user, updated_at=T0)
    new = factory.note(user, updated_at=T0 + timedelta(hours=1))
    old_pinned = factory.note(user, pinned=True, updated_at=T0 - timedelta(days=1))
    page = list_notes(user)
    assert ids(page) == [old_pinned.id, new.id, old.id]
    assert page.next_cursor is None


def test_list_notes_last_page_has_no_cursor(app, factory, user):
    for _ in range(3):
        factory.note(user)
    assert list_notes(user, limit=3).next_cursor is None
    assert list_notes(user, limit=2).next_cursor is not None


def walk(user, limit: int, **filters) -> list[int]:
    seen: list[int] = []
    cursor = None
    for _ in range(1000):
        page = list_notes(user, cursor=cursor, limit=limit, **filters)
        assert len(page.items) <= limit
        seen.extend(ids(page))
        cursor = page.next_cursor
        if cursor is None:
            return seen
        assert page.items, "a page with a cursor must not be empty"
    raise AssertionError("pagination did not end")


def expected_order(user, **filters) -> list[int]:
    return ids(list_notes(user, limit=10_000, **filters))


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 50])
def test_keyset_pages_have_no_duplicates_or_gaps_with_ties(app, factory, user, limit):
    rng = random.Random(limit)
    # Few distinct timestamps, so many notes tie on (pinned, updated_at) and only id orders them.
    stamps = [T0, T0 + timedelta(microseconds=1), T0 + timedelta(seconds=1), T0 + timedelta(days=1)]
    created = [factory.note(user, pinned=rng.random() < 0.3, updated_at=rng.choice(stamps)) for _ in range(23)]
    factory.note(user, archived=True, updated_at=T0)

    seen = walk(user, limit)
    assert len(seen) == len(set(seen)) == len(created)
    key = {n.id: (n.pinned, n.updated_at, n.id) for n in created}
    assert seen == sorted(key, key=lambda i: key[i], reverse=True)
    assert seen == expected_order(user)


def test_keyset_pages_all_identical_timestamps(app, factory, user):
    notes = [factory.note(user, updated_at=T0) for _ in range(10)]
    assert walk(user, 3) == sorted((n.id for n in notes), reverse=True)


def test_keyset_pages_respect_filters(app, factory, user):
    for i in range(9):
        factory.note(user, archived=i % 2 == 0, updated_at=T0 + timedelta(seconds=i % 3))
    archived = walk(user, 2, archived=True)
    assert archived == expected_order(user, archived=True)
    assert len(archived) == 5


def test_keyset_cursor_is_stable_when_notes_are_added(app, factory, user):
    for i in range(6):
        factory.note(user, updated_at=T0 + timedelta(minutes=i))
    first = list_notes(user, limit=3)
    newer = factory.note(user, updated_at=T0 + timedelta(days=1))
    second = list_notes(user, limit=3, cursor=first.next_cursor)
    assert newer.id not in ids(second)
    assert len(set(ids(first)) | set(ids(second))) == 6


def test_list_notes_refuses_foreign_cursor(app, user):
    with pytest.raises(CursorError):
        list_notes(user, cursor="bm90IGEgY3Vyc29y")


# --- create / update -------------------------------------------------------


def test_create_note(app, user):
    note = create_note(user, "Title", "Body", pinned=True)
    assert (note.owner_id, note.title, note.content, note.pinned, note.archived, note.version) == (
        user.id,
        "Title",
        "Body",
        True,
        False,
        1,
    )


def test_update_note_applies_changes_with_current_version(app, factory, user):
    note = factory.note(user, title="old")
    update_note(note, {"title": "new", "pinned": True}, expected_version=1)
    db.session.expire_all()
    assert (note.title, note.pinned, note.version) == ("new", True, 2)


def test_update_note_with_stale_version_raises_and_writes_nothing(app, factory, user):
    note = factory.note(user, title="v1")
    update_note(note, {"title": "v2"})
    with pytest.raises(EditConflict):
        update_note(note, {"title": "from a stale form", "content": "lost?"}, expected_version=1)
    db.session.rollback()
    db.session.expire_all()
    row = db.session.execute(sa.select(Note.title, Note.content, Note.version).where(Note.id == note.id)).one()
    assert tuple(row) == ("v2", "Some *markdown* text.", 2)


def test_update_note_turns_a_concurrent_write_into_edit_conflict(file_app):
    db.create_all()
    from app.models import User

    owner = User(email="a@example.com", password_hash="x")
    db.session.add(owner)
    note = create_note(owner, "original")
    assert note.version == 1
    with Session(db.engine) as other:
        other.get(Note, note.id).title = "theirs"
        other.commit()

    # The version check passes (this session read version 1), the UPDATE does not.
    with pytest.raises(EditConflict):
        update_note(note, {"title": "mine"}, expected_version=1)
    assert db.session.scalar(sa.select(Note.title).where(Note.id == note.id)) == "theirs"


def test_trash_and_restore(app, factory, user):
    note = factory.note(user)
    trash_note(note, expected_version=1)
    assert note.in_trash and note.version == 2
    assert ids(list_notes(user, trashed=True)) == [note.id]
    restore_note(note, expected_version=2)
    assert not note.in_trash
    with pytest.raises(EditConflict):
        trash_note(note, expected_version=2)
    assert not db.session.get(Note, note.id).in_trash
