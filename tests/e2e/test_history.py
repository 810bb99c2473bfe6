"""A note's history on PostgreSQL: two restores racing, and revisions going with a purged note."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from tests.helpers.data import PASSWORD
from tests.helpers.e2e import API, at_once, etag
from tests.helpers.web import bearer

from app.accounts.passwords import hash_password
from app.accounts.tokens import create_token
from app.models import Note, NoteRevision, User, db, utcnow
from app.notes.service import purge_expired_trash, update_note

pytestmark = pytest.mark.e2e

WRITERS = 2


def _seed(app: Flask) -> tuple[int, int, str]:
    """A user, a token, and a note edited once; (note id, its revision's id, token secret)."""
    with app.app_context():
        user = User(email="race@example.com", password_hash=hash_password(PASSWORD))
        note = Note(owner=user, title="Shared", content="original")
        db.session.add_all([user, note])
        db.session.commit()
        update_note(note, {"content": "edited"})
        token, secret = create_token(user, "race")
        token.last_used_at = utcnow()  # so neither request writes it: the note is all they fight over
        db.session.commit()
        revision_id = db.session.scalars(sa.select(NoteRevision.id)).one()
        return note.id, revision_id, secret


def test_two_restores_with_the_same_if_match_one_wins_and_one_revision_is_kept(
    committed_app: Callable[[], Flask],
) -> None:
    apps = [committed_app() for _ in range(WRITERS)]
    note_id, revision_id, secret = _seed(apps[0])
    headers = {**bearer(secret), "If-Match": etag(note_id, 2)}
    url = f"{API}/notes/{note_id}/revisions/{revision_id}/restore"

    def restore(index: int) -> int:
        return apps[index].test_client().post(url, headers=headers).status_code

    # Both have read version 2 and passed the If-Match check before either UPDATEs.
    results, errors = at_once(apps, restore, pause_before=lambda statement: statement.startswith("UPDATE notes"))

    assert not errors, errors
    assert sorted(results.values()) == [200, 412], results
    with apps[0].app_context():
        note = db.session.get(Note, note_id)
        assert note is not None and (note.content, note.version) == ("original", 3)
        revisions = db.session.scalars(sa.select(NoteRevision).order_by(NoteRevision.id)).all()
        # The edit's revision, and one for the winner's restore: the loser left nothing.
        assert [(r.content, r.restored_from) for r in revisions] == [("original", None), ("edited", revision_id)]


def test_purging_expired_trash_deletes_the_notes_revisions(app: Flask, factory: Any, user: User) -> None:
    gone = factory.note(user, content="a")
    kept = factory.note(user, content="a")
    for note in (gone, kept):
        update_note(note, {"content": "b"})
    gone.deleted_at = utcnow() - timedelta(days=40)
    db.session.commit()
    assert purge_expired_trash(timedelta(days=30)) == 1
    db.session.expire_all()
    assert db.session.scalars(sa.select(NoteRevision.note_id)).all() == [kept.id]
