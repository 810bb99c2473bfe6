"""The small tags form on a note's page (POST /notes/<id>/tags), which htmx
sends in place and which works as a plain form without JavaScript."""

from __future__ import annotations

import re

from tests.helpers.data import PASSWORD, Factory

from app.models import db


def _tag_names(note) -> list[str]:  # type: ignore[no-untyped-def]
    db.session.refresh(note)
    return sorted(tag.name for tag in note.tags)


def test_the_note_page_shows_the_form_with_the_current_tags(client, logged_in, factory):
    note = factory.note(logged_in)
    client.post(f"/notes/{note.id}/tags", data={"tags": "ideas, Work"})
    page = client.get(f"/notes/{note.id}").get_data(as_text=True)
    assert f'action="/notes/{note.id}/tags"' in page
    assert re.search(r'<input[^>]*id="tags"[^>]*value="ideas, Work"', page)


def test_saving_replaces_the_tags_and_goes_back_to_the_note(client, logged_in, factory):
    note = factory.note(logged_in)
    client.post(f"/notes/{note.id}/tags", data={"tags": "old"})
    response = client.post(f"/notes/{note.id}/tags", data={"tags": " new ,Other, new"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/notes/{note.id}"
    assert _tag_names(note) == ["Other", "new"]
    assert "Tags saved." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_an_empty_field_removes_every_tag(client, logged_in, factory):
    note = factory.note(logged_in)
    client.post(f"/notes/{note.id}/tags", data={"tags": "a, b"})
    assert client.post(f"/notes/{note.id}/tags", data={"tags": ""}).status_code == 302
    assert _tag_names(note) == []


def test_a_bad_tag_list_says_why_and_changes_nothing(client, logged_in, factory):
    note = factory.note(logged_in)
    client.post(f"/notes/{note.id}/tags", data={"tags": "keep"})
    response = client.post(f"/notes/{note.id}/tags", data={"tags": "ok, " + "x" * 51})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Keep each tag to 50 characters" in page
    # The page is the note itself, with the typed text kept in the field.
    assert 'id="note"' in page and 'aria-invalid="true"' in page and "x" * 51 in page
    assert _tag_names(note) == ["keep"]


def test_a_trashed_note_has_no_tags_form_and_refuses_one(client, logged_in, factory):
    note = factory.note(logged_in)
    client.post(f"/notes/{note.id}/delete")
    assert 'id="tags"' not in client.get(f"/notes/{note.id}").get_data(as_text=True)
    assert client.post(f"/notes/{note.id}/tags", data={"tags": "x"}).status_code == 404
    assert _tag_names(note) == []


def test_another_users_note_is_a_404(client, logged_in, factory):
    theirs = factory.note(factory.user("bob@example.com"))
    assert client.post(f"/notes/{theirs.id}/tags", data={"tags": "mine"}).status_code == 404
    assert _tag_names(theirs) == []


def test_with_csrf_on_the_token_is_needed_in_the_form_or_the_htmx_header(csrf_app):
    factory = Factory()
    alice = factory.user("alice@example.com")
    note = factory.note(alice)
    client = csrf_app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    login = {"email": alice.email, "password": PASSWORD, "csrf_token": token}
    assert client.post("/auth/login", data=login).status_code == 302
    page = client.get(f"/notes/{note.id}").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    forged = client.post(f"/notes/{note.id}/tags", data={"tags": "forged"})
    assert forged.status_code == 400
    assert _tag_names(note) == []
    # htmx sends the page's token as X-CSRFToken (static/js/app.js).
    sent = client.post(f"/notes/{note.id}/tags", data={"tags": "real"}, headers={"X-CSRFToken": token})
    assert sent.status_code == 302
    assert _tag_names(note) == ["real"]
