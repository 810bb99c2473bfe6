"""Share links on PostgreSQL: made, opened, expired, revoked, and gone with their note or owner."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from tests.helpers.data import Factory
from tests.helpers.e2e import API, count

from app.models import Note, NoteShare, User, db, utcnow
from app.notes.service import purge_note

pytestmark = pytest.mark.e2e


def test_a_link_lives_and_dies_by_its_rules(app, client: FlaskClient, factory: Factory) -> None:
    alice = factory.user("alice@example.com")
    note = factory.note(alice, title="On PostgreSQL", content="**bold**")
    _, secret = factory.token(alice)
    headers = {"Authorization": f"Bearer {secret}"}

    made = client.post(f"{API}/notes/{note.id}/shares", json={"days": 1}, headers=headers)
    assert made.status_code == 201, made.get_data(as_text=True)
    path = "/s/" + made.get_json()["url"].rsplit("/s/", 1)[1]
    opened = client.get(path)
    assert opened.status_code == 200 and "<strong>bold</strong>" in opened.get_data(as_text=True)

    # Expiry is compared in the database's own timestamptz.
    share = db.session.get(NoteShare, made.get_json()["id"])
    share.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(path).status_code == 404
    assert client.get(f"{API}/shares", headers=headers).get_json()["items"] == []

    again = client.post(f"{API}/notes/{note.id}/shares", json={}, headers=headers).get_json()
    assert [s["id"] for s in client.get(f"{API}/shares", headers=headers).get_json()["items"]] == [again["id"]]
    assert client.delete(f"{API}/notes/{note.id}/shares/{again['id']}", headers=headers).status_code == 204
    assert client.get("/s/" + again["url"].rsplit("/s/", 1)[1]).status_code == 404


def test_links_go_with_their_note_and_with_their_owner(app, factory: Factory) -> None:
    alice = factory.user("alice@example.com")
    bob = factory.user("bob@example.com")
    purged, kept = factory.note(alice, title="purged"), factory.note(bob, title="bob's")
    for n, note in enumerate((purged, kept)):
        db.session.add(NoteShare(note_id=note.id, token_hash=f"{n}" * 64))
    db.session.commit()
    purge_note(db.session.get(Note, purged.id))
    assert db.session.scalars(sa.select(NoteShare.note_id)).all() == [kept.id]
    db.session.delete(db.session.get(User, bob.id))
    db.session.commit()
    assert count(NoteShare) == 0
