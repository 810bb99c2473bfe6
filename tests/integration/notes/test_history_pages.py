"""The history pages: the list of revisions, the diff, and "restore this version"."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.models import Note, NoteRevision, db
from app.notes.service import update_note


def _edit(client, note_id: int, content: str, title: str = "Title", tags: str = "") -> None:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    version = db.session.get(Note, note_id).version  # type: ignore[union-attr]
    data = {"title": title, "content": content, "tags": tags, "version": str(version)}
    response = client.post(f"/notes/{note_id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)


def _revisions(note_id: int) -> list[NoteRevision]:
    db.session.expire_all()
    query = sa.select(NoteRevision).where(NoteRevision.note_id == note_id).order_by(NoteRevision.id)
    return list(db.session.scalars(query))


@pytest.fixture
def note(factory, logged_in):  # type: ignore[no-untyped-def]
    return factory.note(logged_in, title="Title", content="first text")


def test_the_note_page_links_to_its_history(client, note):
    page = client.get(f"/notes/{note.id}").get_data(as_text=True)
    assert f'href="/notes/{note.id}/history"' in page


def test_a_new_note_has_an_empty_history(client, note):
    page = client.get(f"/notes/{note.id}/history").get_data(as_text=True)
    assert 'id="no-revisions"' in page


def test_edits_from_one_login_fold_and_the_history_lists_the_version_before(client, note):
    _edit(client, note.id, "second text")
    _edit(client, note.id, "third text")
    [revision] = _revisions(note.id)
    assert (revision.content, revision.note_version, revision.via) == ("first text", 1, "session")
    page = client.get(f"/notes/{note.id}/history").get_data(as_text=True)
    assert "Version 1: Title" in page and "from a browser" in page
    assert f'action="/notes/{note.id}/history/{revision.id}/restore"' in page
    assert '<input type="hidden" name="version" value="3">' in page


def test_another_login_of_the_same_user_is_another_client(app, client, note, auth):
    _edit(client, note.id, "from the laptop")
    phone = app.test_client()
    assert (
        phone.post("/auth/login", data={"email": "alice@example.com", "password": "correct horse battery"}).status_code
        == 302
    )
    _edit(phone, note.id, "from the phone")
    assert [r.content for r in _revisions(note.id)] == ["first text", "from the laptop"]


def test_the_tags_form_and_task_boxes_keep_revisions_too(client, app, note):
    app.config["REVISION_FOLD_WINDOW"] *= 0
    update_note(note, {"content": "- [ ] milk"})
    assert client.post(f"/notes/{note.id}/tags", data={"tags": "a, b"}).status_code == 302
    assert client.post(f"/notes/{note.id}/tasks/0", data={"version": "3"}).status_code == 302
    revisions = _revisions(note.id)
    assert [(r.content, r.tag_names, r.via) for r in revisions[1:]] == [
        ("- [ ] milk", [], "session"),
        ("- [ ] milk", ["a", "b"], "session"),
    ]


def test_the_diff_shows_changes_with_the_note_text_escaped(client, note):
    _edit(client, note.id, "first text\n<script>alert('x')</script>", title="New <b>title</b>", tags="x")
    [revision] = _revisions(note.id)
    response = client.get(f"/notes/{note.id}/history/diff?from={revision.id}&to=current")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<script>alert" not in page and "<b>title" not in page
    assert '<ins class="diff-ins">+ &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</ins>' in page
    assert '<span class="diff-same">  first text</span>' in page
    assert '<del class="diff-del">Title</del> → <ins class="diff-ins">New &lt;b&gt;title&lt;/b&gt;</ins>' in page
    assert f'action="/notes/{note.id}/history/{revision.id}/restore"' in page


def test_the_diff_between_two_revisions(client, app, note):
    app.config["REVISION_FOLD_WINDOW"] *= 0
    _edit(client, note.id, "second text")
    _edit(client, note.id, "third text")
    first, second = _revisions(note.id)
    page = client.get(f"/notes/{note.id}/history/diff?from={first.id}&to={second.id}").get_data(as_text=True)
    assert "Version 1 → Version 2" in page
    assert '<del class="diff-del">- first text</del>' in page and '<ins class="diff-ins">+ second text</ins>' in page


@pytest.mark.parametrize("bad", ["9999", "abc", "-1", ""])
def test_the_diff_of_an_unknown_revision_is_404(client, note, bad):
    assert client.get(f"/notes/{note.id}/history/diff?from={bad}&to=current").status_code == 404


def test_the_diff_of_another_notes_revision_is_404(client, note, factory, logged_in):
    other = factory.note(logged_in, title="Other", content="other text")
    update_note(other, {"content": "changed"})
    [theirs] = _revisions(other.id)
    response = client.get(f"/notes/{note.id}/history/diff?from={theirs.id}")
    assert response.status_code == 404
    assert b"other text" not in response.data
    assert client.post(f"/notes/{note.id}/history/{theirs.id}/restore", data={"version": "1"}).status_code == 404


def test_restore_this_version(client, note):
    _edit(client, note.id, "second text", tags="x")
    [revision] = _revisions(note.id)
    response = client.post(f"/notes/{note.id}/history/{revision.id}/restore", data={"version": "2"})
    assert response.status_code == 302 and response.headers["Location"] == f"/notes/{note.id}"
    assert "Version 1 restored" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(Note, note.id)
    assert stored is not None and (stored.content, stored.tags, stored.version) == ("first text", [], 3)
    assert [(r.content, r.restored_from) for r in _revisions(note.id)] == [
        ("first text", None),
        ("second text", revision.id),
    ]


def test_restore_from_a_stale_page_is_409_and_changes_nothing(client, note):
    _edit(client, note.id, "second text")
    [revision] = _revisions(note.id)
    update_note(db.session.get(Note, note.id), {"content": "edited elsewhere"})  # version 3 now
    response = client.post(f"/notes/{note.id}/history/{revision.id}/restore", data={"version": "2"})
    assert response.status_code == 409
    assert "reload the page" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Note, note.id).content == "edited elsewhere"  # type: ignore[union-attr]
    assert len(_revisions(note.id)) == 2


@pytest.mark.parametrize("data", [{}, {"version": "two"}], ids=["missing", "not a number"])
def test_restore_without_a_version_is_400_and_changes_nothing(client, note, data):
    _edit(client, note.id, "second text")
    [revision] = _revisions(note.id)
    assert client.post(f"/notes/{note.id}/history/{revision.id}/restore", data=data).status_code == 400
    db.session.expire_all()
    assert db.session.get(Note, note.id).content == "second text"  # type: ignore[union-attr]


def test_a_trashed_notes_history_shows_but_offers_no_restore(client, note):
    _edit(client, note.id, "second text")
    [revision] = _revisions(note.id)
    assert client.post(f"/notes/{note.id}/delete").status_code == 302
    page = client.get(f"/notes/{note.id}/history").get_data(as_text=True)
    assert "Version 1: Title" in page and "Restore this version" not in page
    assert client.post(f"/notes/{note.id}/history/{revision.id}/restore", data={"version": "3"}).status_code == 404


def test_history_pages_through_older_revisions(client, app, note):
    app.config["REVISION_FOLD_WINDOW"] *= 0
    for n in range(52):
        update_note(db.session.get(Note, note.id), {"content": f"text {n}"})
    page = client.get(f"/notes/{note.id}/history").get_data(as_text=True)
    assert page.count('class="revision"') == 50
    more = re.search(r'href="(/notes/\d+/history\?cursor=[^"]+)"', page)
    assert more
    rest = client.get(more.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert rest.count('class="revision"') == 2
    assert client.get(f"/notes/{note.id}/history?cursor=broken").status_code == 400
