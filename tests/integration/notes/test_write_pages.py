"""Writing notes: the new-note form, editing, and edits that collide."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from app.models import Note, db
from app.notes.service import update_note


def _notes() -> list[tuple[str, str, int]]:
    db.session.expire_all()
    rows = db.session.execute(sa.select(Note.title, Note.content, Note.version).order_by(Note.id))
    return [tuple(row) for row in rows]


def _field(response, name: str) -> str:
    """The value a re-rendered form carries for ``name`` (as a browser reads
    it: the newline right after <textarea> is not part of the text)."""
    page = response.get_data(as_text=True)
    if name == "content":
        match = re.search(r'<textarea[^>]*name="content"[^>]*>(?:\r?\n)?(.*?)</textarea>', page, re.S)
    else:
        match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    assert match, f"no {name} field in the page"
    return html.unescape(match.group(1))


def test_new_note_form(client, logged_in):
    response = client.get("/notes/new")
    assert response.status_code == 200
    assert b'action="/notes/"' in response.data
    assert b'name="title"' in response.data and b'name="content"' in response.data


def test_create_redirects_to_the_new_note(client, logged_in):
    response = client.post("/notes/", data={"title": "  Groceries  ", "content": "- milk\n- eggs"})
    assert response.status_code == 302
    note = db.session.scalar(sa.select(Note))
    assert response.headers["Location"] == f"/notes/{note.id}"
    assert (note.owner_id, note.title, note.content, note.version) == (logged_in.id, "Groceries", "- milk\n- eggs", 1)

    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert b"Note created." in page.data
    assert b"<h1>Groceries</h1>" in page.data
    assert b"<li>milk</li>" in page.data


def test_create_with_empty_content_is_allowed(client, logged_in):
    assert client.post("/notes/", data={"title": "Just a title", "content": ""}).status_code == 302
    assert _notes() == [("Just a title", "", 1)]


@pytest.mark.parametrize("title", ["", "   "])
def test_create_without_title_rerenders_the_form_with_the_input(client, logged_in, title):
    response = client.post("/notes/", data={"title": title, "content": "my <precious> text"})
    assert response.status_code == 400
    assert b"Give the note a title." in response.data
    assert _field(response, "content") == "my <precious> text"
    assert _notes() == []


def test_title_of_200_characters_is_accepted_201_refused(client, logged_in):
    refused = client.post("/notes/", data={"title": "t" * 201, "content": "kept"})
    assert refused.status_code == 400
    assert b"Keep the title to 200 characters." in refused.data
    assert _field(refused, "title") == "t" * 201
    assert _notes() == []
    assert client.post("/notes/", data={"title": "t" * 200, "content": ""}).status_code == 302
    assert _notes() == [("t" * 200, "", 1)]


@pytest.mark.parametrize("field", ["title", "content"])
def test_nul_character_is_refused(client, logged_in, field):
    data = {"title": "A title", "content": "text"}
    data[field] = "before\x00after"
    response = client.post("/notes/", data=data)
    assert response.status_code == 400
    assert b"Remove the NUL character from this field." in response.data
    assert _notes() == []


def test_content_over_the_limit_is_refused(client, logged_in):
    response = client.post("/notes/", data={"title": "long", "content": "x" * 100_001})
    assert response.status_code == 400
    assert b"Keep the note to 100,000 characters." in response.data
    assert _notes() == []


def test_edit_form_is_prefilled(client, logged_in, factory):
    note = factory.note(logged_in, title='Say "hi" & <wave>', content="line 1\nline <2>")
    response = client.get(f"/notes/{note.id}/edit")
    assert response.status_code == 200
    assert _field(response, "title") == 'Say "hi" & <wave>'
    assert _field(response, "content") == "line 1\nline <2>"
    assert _field(response, "version") == "1"
    assert f'action="/notes/{note.id}/edit"'.encode() in response.data


def test_edit_saves_and_bumps_the_version(client, logged_in, factory):
    note = factory.note(logged_in, title="Before", content="old")
    response = client.post(f"/notes/{note.id}/edit", data={"title": "After", "content": "new", "version": "1"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/notes/{note.id}"
    assert _notes() == [("After", "new", 2)]
    assert b"Note saved." in client.get(response.headers["Location"]).data


def test_edit_with_invalid_input_changes_nothing(client, logged_in, factory):
    note = factory.note(logged_in, title="Before", content="old")
    response = client.post(f"/notes/{note.id}/edit", data={"title": "", "content": "new text", "version": "1"})
    assert response.status_code == 400
    assert b"Give the note a title." in response.data
    assert _field(response, "content") == "new text"
    assert _notes() == [("Before", "old", 1)]


def test_edit_with_a_stale_version_is_a_conflict_that_keeps_both_texts(client, logged_in, factory):
    note = factory.note(logged_in, title="Shared", content="original")
    # Someone else saves while this user is still editing version 1.
    update_note(note, {"title": "Theirs", "content": "their text"})
    assert note.version == 2

    response = client.post(f"/notes/{note.id}/edit", data={"title": "Mine", "content": "my text", "version": "1"})
    assert response.status_code == 409
    assert b"This note was changed somewhere else while you were editing." in response.data
    assert b'<pre class="other-version">their text</pre>' in response.data
    assert b"The other version: Theirs" in response.data
    assert _field(response, "title") == "Mine"
    assert _field(response, "content") == "my text"
    # The form now carries the version it was compared with, so saving again
    # after merging is a deliberate overwrite of what was shown.
    assert _field(response, "version") == "2"
    assert _notes() == [("Theirs", "their text", 2)]

    again = client.post(f"/notes/{note.id}/edit", data={"title": "Merged", "content": "both", "version": "2"})
    assert again.status_code == 302
    assert _notes() == [("Merged", "both", 3)]


def test_edit_from_a_form_without_version_still_saves(client, logged_in, factory):
    note = factory.note(logged_in, title="Before")
    update_note(note, {"content": "bumped"})
    response = client.post(f"/notes/{note.id}/edit", data={"title": "After", "content": "x"})
    assert response.status_code == 302
    assert _notes() == [("After", "x", 3)]


@pytest.mark.parametrize("method", ["get", "post"])
def test_edit_of_a_trashed_note_is_404(client, logged_in, factory, method):
    note = factory.note(logged_in, title="Binned", content="old")
    client.post(f"/notes/{note.id}/delete")
    data = {"title": "Changed", "content": "new", "version": str(note.version)}
    response = client.open(f"/notes/{note.id}/edit", method=method.upper(), data=data if method == "post" else None)
    assert response.status_code == 404
    assert b"This note is in the trash." in response.data
    assert _notes()[0][:2] == ("Binned", "old")


def test_unknown_note_is_a_404_page(client, logged_in):
    response = client.get("/notes/12345")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert b"No such note." in response.data
