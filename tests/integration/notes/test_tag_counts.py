"""The stored tag counts (app/notes/tag_counts.py) equal a recount after every kind of write, on SQLite."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

from tests.helpers.tag_counts import assert_counts_true, shown

from app.models import Note, db, utcnow
from app.notes.history import list_revisions
from app.notes.service import (
    create_note,
    purge_expired_trash,
    purge_note,
    restore_note,
    restore_revision,
    trash_note,
    update_note,
)
from app.notes.tags import delete_unused_tags, rename_tag
from app.notes.transfer import export_zip, import_zip


def test_counts_follow_saves_trash_restore_purge_rename_merge_and_import(factory):
    alice, bob = factory.user("alice@example.com"), factory.user("bob@example.com")
    one = create_note(alice, "One", tags=["home", "work"])
    two = create_note(alice, "Two", tags=["home"])
    three = create_note(alice, "Three", tags=["home", "ideas"])
    create_note(bob, "Bob's", tags=["home"])  # another user's tag of the same name
    assert shown(alice) == {"home": 3, "work": 1, "ideas": 1}
    assert_counts_true(alice, bob)

    update_note(one, {"tags": ["work", "Ideas"]})  # one off, one kept, one existing
    assert_counts_true(alice, bob)
    update_note(two, {"archived": True})  # archived notes still count
    assert shown(alice)["home"] == 2
    trash_note(three)
    assert shown(alice) == {"home": 1, "work": 1, "ideas": 1}
    assert_counts_true(alice)
    restore_note(three)
    assert_counts_true(alice)

    restore_revision(one, list_revisions(one, limit=10).items[0])  # back to home, work
    assert_counts_true(alice)

    rename_tag(alice, "work", "Job")  # a rename moves nothing
    assert_counts_true(alice)
    rename_tag(alice, "ideas", "home")  # a merge moves the notes of one tag onto another
    assert shown(alice)["home"] == 3 and "ideas" not in shown(alice)
    assert_counts_true(alice, bob)

    trash_note(two)
    purge_note(db.session.get(Note, two.id))
    delete_unused_tags(alice.id)
    db.session.commit()
    assert_counts_true(alice)

    exported = export_zip(alice)
    import_zip(alice, exported)  # bulk INSERTs of notes and note_tags
    assert shown(alice)["home"] == 4
    assert_counts_true(alice, bob)

    old = create_note(alice, "Old", tags=["archive-me"])
    trash_note(old)
    db.session.get(Note, old.id).deleted_at = utcnow() - timedelta(days=90)
    db.session.commit()
    purge_expired_trash(timedelta(days=30))
    assert_counts_true(alice, bob)


def test_deleting_a_live_note_or_its_account_counts_right(factory):
    alice, bob = factory.user("alice@example.com"), factory.user("bob@example.com")
    note = create_note(alice, "Live", tags=["home", "work"])
    create_note(alice, "Kept", tags=["home"])
    create_note(bob, "Bob's", tags=["home"])
    db.session.delete(note)  # a live note deleted outright (no trash first)
    db.session.commit()
    assert shown(alice) == {"home": 1}
    assert_counts_true(alice, bob)
    db.session.delete(db.session.get(type(alice), alice.id))
    db.session.commit()
    assert shown(bob) == {"home": 1}
    assert_counts_true(bob)


def test_the_sidebar_reads_the_stored_counts(client, auth, factory):
    from app.models import Tag

    auth.register()
    client.post("/notes/", data={"title": "A", "content": "", "tags": "home"})
    client.post("/notes/", data={"title": "B", "content": "", "tags": "home"})
    # Only the stored count is read: set it apart from the truth and the page shows it.
    tag = db.session.scalars(db.select(Tag)).one()
    db.session.execute(db.update(Tag).where(Tag.id == tag.id).values(note_count=7))
    db.session.commit()
    page = client.get("/notes/").get_data(as_text=True)
    assert 'home <span class="count">7</span>' in page


def _zip_with(notes: list[dict]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.json", json.dumps({"format": "notes-export", "version": 1, "notes": notes}))
    return buffer.getvalue()


def test_an_import_with_trashed_notes_counts_only_the_live_ones(factory):
    alice = factory.user()
    note = {
        "title": "T",
        "content": "x",
        "tags": ["home"],
        "pinned": False,
        "archived": False,
        "created_at": "2025-01-01T00:00:00+00:00",
        "updated_at": "2025-01-01T00:00:00+00:00",
        "deleted_at": None,
    }
    trashed = {**note, "title": "Gone", "deleted_at": "2025-02-01T00:00:00+00:00"}
    import_zip(alice, _zip_with([note, trashed, {**note, "title": "U"}]))
    assert shown(alice) == {"home": 2}
    assert_counts_true(alice)
