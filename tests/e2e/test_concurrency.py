"""Two writers, two connections, one note: optimistic locking on PostgreSQL.

The savepoint-wrapped ``app`` runs every request on one connection, so it
cannot show a race. Here two apps (two engines, two connections) share a
freshly migrated database whose commits are real.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from tests.helpers.data import PASSWORD
from tests.helpers.e2e import API, at_once, etag
from tests.helpers.web import bearer

from app.accounts.passwords import hash_password
from app.accounts.tokens import create_token
from app.models import Note, Tag, User, db, utcnow

pytestmark = pytest.mark.e2e

WRITERS = 2


def _seed(app: Flask) -> tuple[int, str]:
    """Commit a user, a token and a note; return (note id, token secret)."""
    with app.app_context():
        user = User(email="race@example.com", password_hash=hash_password(PASSWORD))
        note = Note(owner=user, title="Shared", content="original")
        db.session.add_all([user, note])
        db.session.commit()
        token, secret = create_token(user, "race")
        # Already "used", so neither request writes last_used_at: the note is
        # the only row the two requests fight over.
        token.last_used_at = utcnow()
        db.session.commit()
        return note.id, secret


def test_two_patches_with_the_same_if_match_one_wins_one_gets_412(
    committed_app: Callable[[], Flask],
) -> None:
    apps = [committed_app() for _ in range(WRITERS)]
    note_id, secret = _seed(apps[0])
    headers = {**bearer(secret), "If-Match": etag(note_id, 1)}

    # Both requests have read version 1 and passed the If-Match check before
    # either issues its UPDATE, so the database, not the ETag check, decides.
    both_read = threading.Barrier(WRITERS, timeout=15)

    def wait_for_the_other_writer(mapper: Any, connection: Any, target: Note) -> None:
        both_read.wait()

    results: dict[int, tuple[int, Any]] = {}
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            client = apps[index].test_client()
            response = client.patch(f"{API}/notes/{note_id}", json={"content": f"writer {index}"}, headers=headers)
            results[index] = (response.status_code, response.get_json())
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
            both_read.abort()

    sa.event.listen(Note, "before_update", wait_for_the_other_writer)
    try:
        threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        sa.event.remove(Note, "before_update", wait_for_the_other_writer)

    assert not errors, errors
    assert sorted(status for status, _ in results.values()) == [200, 412], results
    winner = next(i for i, (status, _) in results.items() if status == 200)
    loser_body = next(body for status, body in results.values() if status == 412)
    assert "If-Match" in loser_body["detail"]
    assert results[winner][1]["version"] == 2

    with apps[0].app_context():
        note = db.session.get(Note, note_id)
        assert note is not None
        assert note.content == f"writer {winner}"
        assert note.version == 2


def _inserts_a_tag(statement: str) -> bool:
    return statement.lstrip().upper().startswith("INSERT INTO TAGS")


def test_two_notes_created_at_once_with_the_same_new_tag_both_succeed(
    committed_app: Callable[[], Flask],
) -> None:
    apps = [committed_app() for _ in range(WRITERS)]
    _, secret = _seed(apps[0])

    def create(index: int) -> tuple[int, Any]:
        body = {"title": f"writer {index}", "tags": ["Brand New"]}
        response = apps[index].test_client().post(f"{API}/notes", json=body, headers=bearer(secret))
        return response.status_code, response.get_json()

    # Both requests have looked for the tag, found none, and go to create it
    # at the same moment: one insert must wait for the other, not fail.
    results, errors = at_once(apps, create, pause_before=_inserts_a_tag)
    assert not errors, errors
    assert [status for status, _ in results.values()] == [201, 201], results
    with apps[0].app_context():
        tags = db.session.scalars(sa.select(Tag)).all()
        assert [(t.name, t.name_key) for t in tags] == [("Brand New", "brand new")]
        notes = db.session.scalars(sa.select(Note).where(Note.title.like("writer %"))).all()
        assert [[t.id for t in note.tags] for note in notes] == [[tags[0].id], [tags[0].id]]
