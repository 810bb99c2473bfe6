"""Tags, search and task lists in the HTML pages."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.models import Note, Tag, db


def _create(client, title="T", content="c", tags=""):  # type: ignore[no-untyped-def]
    response = client.post("/notes/", data={"title": title, "content": content, "tags": tags})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_tags_are_set_from_the_form_and_shown(client, logged_in):
    note_id = _create(client, tags="Work, ideas , work")
    page = client.get(f"/notes/{note_id}").get_data(as_text=True)
    assert 'href="/notes/?tag=ideas"' in page and 'href="/notes/?tag=Work"' in page
    edit = client.get(f"/notes/{note_id}/edit").get_data(as_text=True)
    assert 'value="ideas, Work"' in edit


def test_a_bad_tag_keeps_the_form_and_says_why(client, logged_in):
    response = client.post("/notes/", data={"title": "T", "content": "c", "tags": "ok, " + "x" * 51})
    assert response.status_code == 400
    assert "Keep each tag to 50 characters" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0


def test_editing_replaces_tags_and_drops_unused_ones(client, logged_in):
    note_id = _create(client, tags="old")
    version = db.session.get(Note, note_id).version
    client.post(f"/notes/{note_id}/edit", data={"title": "T", "content": "c", "tags": "new", "version": version})
    assert db.session.scalars(sa.select(Tag.name)).all() == ["new"]


def test_sidebar_counts_and_filters(client, logged_in):
    _create(client, title="Alpha", tags="a, b")
    _create(client, title="Beta", tags="a")
    page = client.get("/notes/").get_data(as_text=True)
    assert re.search(r">a <span class=\"count\">2</span>", page)
    assert re.search(r">b <span class=\"count\">1</span>", page)
    both = client.get("/notes/?tag=a&tag=b").get_data(as_text=True)
    assert "Alpha" in both and "Beta" not in both
    assert "No notes with all these tags" in client.get("/notes/?tag=a&tag=zzz").get_data(as_text=True)


def test_search_page_shows_ranked_escaped_snippets(client, logged_in):
    _create(client, title="Recipe", content="<script>x()</script> sourdough bread")
    _create(client, title="Other", content="nothing")
    page = client.get("/notes/?q=bread").get_data(as_text=True)
    assert "1 result for “bread”" in page
    assert "<mark>bread</mark>" in page
    assert "<script>x()" not in page
    assert "Other" not in page.split('class="note-list"')[1]
    assert "<title>Search: bread · Notes</title>" in page


def test_search_in_the_archive_and_with_tags(client, logged_in):
    _create(client, title="Kept", content="kiwi", tags="fruit")
    archived = _create(client, title="Old kiwi", content="kiwi")
    client.post(f"/notes/{archived}/archive")
    assert "Old kiwi" not in client.get("/notes/?q=kiwi").get_data(as_text=True)
    assert "Old kiwi" in client.get("/notes/archive?q=kiwi").get_data(as_text=True)
    assert "Kept" in client.get("/notes/?q=kiwi&tag=fruit").get_data(as_text=True)


def test_an_overlong_search_is_400(client, logged_in):
    assert client.get("/notes/?q=" + "x" * 201).status_code == 400


def test_nothing_found_says_what_to_try(client, logged_in):
    assert "Nothing matches" in client.get("/notes/?q=absent").get_data(as_text=True)


def test_tags_page_renames_and_merges(client, logged_in):
    _create(client, tags="recipes")
    _create(client, tags="cooking")
    page = client.get("/notes/tags").get_data(as_text=True)
    assert "recipes" in page and "cooking" in page
    response = client.post("/notes/tags/rename", data={"name": "recipes", "new_name": "cooking"})
    assert response.status_code == 302
    assert db.session.scalars(sa.select(Tag.name)).all() == ["cooking"]


def test_renaming_to_a_bad_name_changes_nothing(client, logged_in):
    _create(client, tags="keep")
    response = client.post("/notes/tags/rename", data={"name": "keep", "new_name": "a,b"})
    assert response.status_code == 400
    assert "commas" in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Tag.name)).all() == ["keep"]


def test_tasks_render_as_checkboxes_and_toggle(client, logged_in):
    note_id = _create(client, content="- [ ] milk\n- [x] eggs\n\n```\n- [ ] code\n```")
    page = client.get(f"/notes/{note_id}").get_data(as_text=True)
    assert page.count('type="checkbox"') == 2
    version = db.session.get(Note, note_id).version
    response = client.post(f"/notes/{note_id}/tasks/0", data={"version": version})
    assert response.status_code == 302
    note = db.session.get(Note, note_id)
    assert note.content.startswith("- [x] milk\n- [x] eggs")
    assert "- [ ] code" in note.content  # the code block is untouched


def test_a_task_toggle_from_a_stale_page_is_refused(client, logged_in):
    note_id = _create(client, content="- [ ] one")
    stale = db.session.get(Note, note_id).version
    client.post(f"/notes/{note_id}/tasks/0", data={"version": stale})
    response = client.post(f"/notes/{note_id}/tasks/0", data={"version": stale})
    assert response.status_code == 409
    assert db.session.get(Note, note_id).content == "- [x] one"


def test_a_task_that_is_not_there_is_404_and_a_missing_version_400(client, logged_in):
    note_id = _create(client, content="- [ ] one")
    version = db.session.get(Note, note_id).version
    assert client.post(f"/notes/{note_id}/tasks/5", data={"version": version}).status_code == 404
    assert client.post(f"/notes/{note_id}/tasks/0", data={}).status_code == 400
    assert db.session.get(Note, note_id).content == "- [ ] one"


def test_a_script_gets_the_new_version_back(client, logged_in):
    note_id = _create(client, content="- [ ] one")
    version = db.session.get(Note, note_id).version
    response = client.post(
        f"/notes/{note_id}/tasks/0", data={"version": version}, headers={"X-Requested-With": "fetch"}
    )
    assert response.status_code == 200
    assert response.json == {"version": version + 1}
