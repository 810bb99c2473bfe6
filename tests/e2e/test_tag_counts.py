"""The stored tag counts equal a recount after every kind of write, on PostgreSQL's triggers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from tests.helpers.data import Factory
from tests.helpers.tag_counts import assert_counts_true, shown

from app.models import Note, User, db, utcnow
from app.notes.models import note_tags
from app.notes.service import create_note, purge_expired_trash, purge_note, restore_note, trash_note, update_note
from app.notes.tags import rename_tag
from app.notes.transfer import LINKS_PER_STATEMENT, export_zip, import_zip

pytestmark = pytest.mark.e2e


def test_counts_follow_every_kind_of_write(app: Flask, factory: Factory) -> None:
    alice, bob = factory.user("alice@example.com"), factory.user("bob@example.com")
    one = create_note(alice, "One", tags=["home", "work"])
    two = create_note(alice, "Two", tags=["home"])
    create_note(bob, "Bob's", tags=["home"])
    assert shown(alice) == {"home": 2, "work": 1}
    update_note(one, {"tags": ["work", "ideas"]})
    trash_note(two)
    assert shown(alice) == {"work": 1, "ideas": 1}
    restore_note(two)
    rename_tag(alice, "ideas", "home")  # a merge
    assert_counts_true(alice, bob)
    import_zip(alice, export_zip(alice))
    assert shown(alice) == {"home": 4, "work": 2}
    trash_note(two)
    purge_note(db.session.get(Note, two.id))
    old = create_note(alice, "Old", tags=["home"])
    trash_note(old)
    db.session.get(Note, old.id).deleted_at = utcnow() - timedelta(days=90)
    db.session.commit()
    purge_expired_trash(timedelta(days=30))
    assert_counts_true(alice, bob)
    db.session.delete(db.session.get(Note, one.id))  # a live note deleted outright
    db.session.commit()
    assert_counts_true(alice, bob)
    db.session.delete(db.session.get(User, alice.id))  # the account, its notes and tags by cascade
    db.session.commit()
    assert shown(bob) == {"home": 1}
    assert_counts_true(bob)


def test_concurrent_saves_of_one_users_notes_keep_the_count(committed_app: Callable[[], Flask]) -> None:
    app = committed_app()
    with app.app_context():
        factory = Factory()
        user = factory.user("carol@example.com")
        ids = [create_note(user, f"N{n}").id for n in range(8)]
        user_id = user.id
    ready = threading.Barrier(len(ids), timeout=15)
    errors: list[BaseException] = []

    def tag(note_id: int) -> None:
        with app.app_context():
            try:
                note = db.session.get(Note, note_id)
                assert note is not None
                ready.wait()
                update_note(note, {"tags": ["shared", f"own-{note_id}"]})
            except BaseException as exc:  # reported below, in the test thread
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tag, args=(note_id,)) for note_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with app.app_context():
        user = db.session.get(User, user_id)
        assert shown(user)["shared"] == len(ids)
        assert_counts_true(user)


def test_a_bulk_insert_of_links_updates_each_tag_once(app: Flask, factory: Factory) -> None:
    """One statement's links are counted once per tag, not once per link (app/notes/tag_counts.py):
    per link, an import's tag rows grew chains of versions that every later update walked."""
    user = factory.user("dora@example.com")
    notes = [create_note(user, f"N{n}", tags=["a", "b", "c"] if n == 0 else []) for n in range(300)]
    tags = {t.name: t.id for t in notes[0].tags}
    updates = sa.text("SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'tags'")
    before = db.session.execute(updates).scalar()
    links = [{"note_id": note.id, "tag_id": tags[name]} for note in notes[1:] for name in ("a", "b")]
    db.session.execute(sa.insert(note_tags).values(links))  # one INSERT of 598 rows
    assert db.session.execute(updates).scalar() - before <= len(tags)
    assert shown(user) == {"a": 300, "b": 300, "c": 1}
    assert_counts_true(user)


def test_an_import_counts_its_links_a_few_hundred_at_a_time(app: Flask, factory: Factory) -> None:
    """The import's links go many to an INSERT (transfer._link_tags): psycopg's executemany
    would be one statement, and so one count update, per link."""
    alice, bob = factory.user("erin@example.com"), factory.user("finn@example.com")
    for n in range(LINKS_PER_STATEMENT + 10):
        create_note(alice, f"N{n}", tags=["a"])
    archive = export_zip(alice)
    updates = sa.text("SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'tags'")
    before = db.session.execute(updates).scalar() or 0
    import_zip(bob, archive, commit=False)
    assert db.session.execute(updates).scalar() - before <= 2  # two INSERTs of links, one tag
    assert shown(bob) == {"a": LINKS_PER_STATEMENT + 10}
    assert_counts_true(bob)


def test_links_moved_by_an_update_move_their_counts(app: Flask, factory: Factory) -> None:
    """No code of the app updates a link in place, but the count follows one that is."""
    user = factory.user("gail@example.com")
    live = create_note(user, "Live", tags=["a"])
    gone = create_note(user, "Gone", tags=["c"])
    trash_note(gone)
    tag_b = create_note(user, "B", tags=["b"]).tags[0]
    db.session.execute(sa.update(note_tags).where(note_tags.c.note_id == live.id).values(tag_id=tag_b.id))
    assert shown(user) == {"b": 2}  # tags with no live note are not shown
    db.session.execute(sa.update(note_tags).where(note_tags.c.note_id == gone.id).values(note_id=live.id))
    assert shown(user) == {"b": 2, "c": 1}
    assert_counts_true(user)
