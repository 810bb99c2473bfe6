"""The buttons on a note: pin, archive, trash, restore, delete forever."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest

from app.models import Note, db, utcnow


def _reload(note: Note) -> Note | None:
    db.session.expire_all()
    return db.session.get(Note, note.id)


def _flash_after(client, response) -> bytes:
    return client.get(response.headers["Location"]).data


def test_pin_and_unpin(client, logged_in, factory):
    note = factory.note(logged_in)
    response = client.post(f"/notes/{note.id}/pin")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/notes/{note.id}"
    assert _reload(note).pinned is True
    assert b"Note pinned." in _flash_after(client, response)

    response = client.post(f"/notes/{note.id}/pin")
    assert _reload(note).pinned is False
    assert b"Note unpinned." in _flash_after(client, response)
    assert _reload(note).version == 3


def test_archive_and_unarchive(client, logged_in, factory):
    note = factory.note(logged_in)
    response = client.post(f"/notes/{note.id}/archive")
    assert response.status_code == 302
    assert _reload(note).archived is True
    assert b"Note archived." in _flash_after(client, response)
    assert b"This note is archived." in client.get(f"/notes/{note.id}").data

    response = client.post(f"/notes/{note.id}/archive")
    assert _reload(note).archived is False
    assert b"Note moved back to your notes." in _flash_after(client, response)


def test_delete_moves_to_the_trash(client, logged_in, factory):
    note = factory.note(logged_in, title="Binned")
    response = client.post(f"/notes/{note.id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == "/notes/"
    assert _reload(note).deleted_at is not None
    listing = _flash_after(client, response)
    assert b"Note moved to the trash. You can restore it from there." in listing
    assert b"Binned" not in listing
    assert b"Binned" in client.get("/notes/trash").data


def test_restore_brings_a_note_back(client, logged_in, factory):
    note = factory.note(logged_in, title="Back again", deleted_at=utcnow())
    response = client.post(f"/notes/{note.id}/restore")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/notes/{note.id}"
    assert _reload(note).deleted_at is None
    assert b"Note restored." in _flash_after(client, response)
    assert b"Back again" in client.get("/notes/").data


def test_restore_of_a_live_note_is_404(client, logged_in, factory):
    note = factory.note(logged_in)
    assert client.post(f"/notes/{note.id}/restore").status_code == 404
    assert _reload(note).version == 1


def test_purge_from_the_trash_deletes_for_good(client, logged_in, factory):
    note = factory.note(logged_in, deleted_at=utcnow())
    response = client.post(f"/notes/{note.id}/purge")
    assert response.status_code == 302
    assert response.headers["Location"] == "/notes/trash"
    assert _reload(note) is None
    assert b"Note deleted forever." in _flash_after(client, response)
    assert client.get(f"/notes/{note.id}").status_code == 404


def test_purge_of_a_live_note_is_404_and_keeps_it(client, logged_in, factory):
    note = factory.note(logged_in)
    response = client.post(f"/notes/{note.id}/purge")
    assert response.status_code == 404
    assert b"This note is not in the trash." in response.data
    assert _reload(note) is not None


@pytest.mark.parametrize("action", ["pin", "archive", "delete"])
def test_actions_on_a_trashed_note_are_404(client, logged_in, factory, action):
    note = factory.note(logged_in, deleted_at=utcnow())
    assert client.post(f"/notes/{note.id}/{action}").status_code == 404
    after = _reload(note)
    assert (after.pinned, after.archived, after.version) == (False, False, 1)


@pytest.mark.parametrize("target", ["/notes/archive", "/notes/?cursor=abc"])
def test_safe_next_is_honoured(client, logged_in, factory, target):
    note = factory.note(logged_in)
    response = client.post(f"/notes/{note.id}/pin", data={"next": target})
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)", ""]
)
def test_unsafe_next_falls_back_to_the_note(client, logged_in, factory, target):
    note = factory.note(logged_in)
    response = client.post(f"/notes/{note.id}/archive", data={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/notes/{note.id}"
    assert _reload(note).archived is True


def test_list_buttons_come_back_to_the_same_list(client, logged_in, factory):
    note = factory.note(logged_in, archived=True)
    page = client.get("/notes/archive").get_data(as_text=True)
    assert f'action="/notes/{note.id}/archive"' in page
    [target] = set(re.findall(r'<input type="hidden" name="next" value="([^"]*)">', page))
    response = client.post(f"/notes/{note.id}/pin", data={"next": html.unescape(target)})
    assert urlsplit(response.headers["Location"]).path == "/notes/archive"


@pytest.mark.parametrize("action", ["pin", "archive", "delete", "restore", "purge"])
def test_get_on_an_action_is_405_and_changes_nothing(client, logged_in, factory, action):
    trashed = action in ("restore", "purge")
    note = factory.note(logged_in, deleted_at=utcnow() if trashed else None)
    response = client.get(f"/notes/{note.id}/{action}")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    after = _reload(note)
    assert after is not None
    assert (after.pinned, after.archived, after.in_trash, after.version) == (False, False, trashed, 1)
