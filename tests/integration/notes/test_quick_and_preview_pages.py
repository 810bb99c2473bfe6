"""Writing fast: quick capture on the notes list, and the editor's preview."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.models import Note, db
from app.notes.rules import MAX_CONTENT_CHARS


def _notes() -> list[tuple[str, str, int]]:
    db.session.expire_all()
    rows = db.session.execute(sa.select(Note.title, Note.content, Note.owner_id).order_by(Note.id))
    return [tuple(row) for row in rows]


# --- quick capture ------------------------------------------------------------


def test_the_notes_list_starts_with_the_quick_capture_box(client, logged_in):
    page = client.get("/notes/").get_data(as_text=True)
    assert 'action="/notes/quick"' in page
    assert 'id="quick-text"' in page and 'name="text"' in page
    # Only on the notes list: the archive and the trash have none.
    assert 'action="/notes/quick"' not in client.get("/notes/archive").get_data(as_text=True)
    assert 'action="/notes/quick"' not in client.get("/notes/trash").get_data(as_text=True)


def test_a_quick_note_is_saved_in_one_step_with_its_first_line_as_title(client, logged_in):
    response = client.post("/notes/quick", data={"text": "Groceries\n- milk\n- eggs"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/notes/"
    assert _notes() == [("Groceries", "- milk\n- eggs", logged_in.id)]
    page = client.get("/notes/").get_data(as_text=True)
    assert "Saved “Groceries”." in page
    assert ">Groceries</a>" in page


def test_a_blank_quick_note_is_refused_with_the_reason_and_saves_nothing(client, logged_in):
    response = client.post("/notes/quick", data={"text": "   \n "})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Write something first: the first line becomes the title." in page
    assert 'aria-invalid="true"' in page
    assert _notes() == []
    # The page is the notes list: its links and buttons point at it, not at /notes/quick.
    assert 'action="/notes/"' in page and 'hx-get="/notes/"' in page


def test_a_too_long_quick_note_keeps_the_text_and_saves_nothing(client, logged_in, factory):
    factory.note(logged_in, title="kept", content="")
    text = "Title\n" + "x" * MAX_CONTENT_CHARS
    response = client.post("/notes/quick", data={"text": text})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"Keep the note to {MAX_CONTENT_CHARS:,} characters." in page
    assert "x" * 1000 in page  # the text is still in the box
    assert _notes() == [("kept", "", logged_in.id)]


def test_a_quick_note_with_a_nul_is_refused(client, logged_in):
    response = client.post("/notes/quick", data={"text": "bad\x00text"})
    assert response.status_code == 400
    assert _notes() == []


def test_quick_capture_needs_a_login(client):
    response = client.post("/notes/quick", data={"text": "anonymous"})
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
    assert _notes() == []


def test_the_htmx_answer_holds_the_list_and_an_empty_box(client, logged_in):
    response = client.post(
        "/notes/quick", data={"text": "From htmx"}, headers={"HX-Request": "true"}, follow_redirects=True
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="results"' in page and ">From htmx</a>" in page
    # The box comes back empty, ready for the next note.
    assert re.search(r'<textarea[^>]*id="quick-text"[^>]*>\s*</textarea>', page)


# --- preview ------------------------------------------------------------------


def test_preview_of_a_new_note_renders_sanitized_markdown_and_saves_nothing(client, logged_in):
    content = "# Heading\n\n**bold** <script>alert(1)</script> [x](javascript:alert(1))"
    response = client.post("/notes/", data={"title": "", "content": content, "preview": "1"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    preview = page[page.index('id="preview"') :]
    assert "<strong>bold</strong>" in preview
    assert "<script>alert(1)" not in page
    assert 'href="javascript:' not in page
    assert _notes() == []


def test_preview_while_editing_keeps_the_form_and_changes_nothing(client, logged_in, factory):
    note = factory.note(logged_in, title="Old", content="old text")
    response = client.post(
        f"/notes/{note.id}/edit",
        data={"title": "New", "content": "*new* text", "tags": "", "version": str(note.version), "preview": "1"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<em>new</em> text" in page
    assert 'value="New"' in page  # the form as typed
    assert f'action="/notes/{note.id}/edit"' in page
    assert _notes() == [("Old", "old text", logged_in.id)]


def test_the_edit_page_shows_the_current_text_rendered(client, logged_in, factory):
    note = factory.note(logged_in, title="T", content="- [ ] task\n\n`code`")
    page = client.get(f"/notes/{note.id}/edit").get_data(as_text=True)
    preview = page[page.index('id="preview"') :]
    assert "<code>code</code>" in preview
    assert f'hx-post="/notes/{note.id}/edit"' in page


def test_a_preview_over_the_limit_says_so_instead_of_rendering(client, logged_in):
    response = client.post("/notes/", data={"title": "t", "content": "x" * (MAX_CONTENT_CHARS + 1), "preview": "1"})
    assert response.status_code == 200
    assert "The text is over the limit, so it is not previewed" in response.get_data(as_text=True)
    assert _notes() == []


def test_another_users_note_cannot_be_previewed_through_its_edit_url(client, logged_in, factory):
    other = factory.user("bob@example.com")
    note = factory.note(other, title="Bob's", content="secret")
    response = client.post(f"/notes/{note.id}/edit", data={"title": "x", "content": "y", "preview": "1"})
    assert response.status_code == 404
    assert "secret" not in response.get_data(as_text=True)


def test_the_save_button_comes_before_preview_so_enter_saves(client, logged_in):
    page = client.get("/notes/new").get_data(as_text=True)
    assert page.index('class="primary" aria-keyshortcuts="Control+Enter Meta+Enter">Save') < page.index(
        'name="preview" value="1"'
    )
