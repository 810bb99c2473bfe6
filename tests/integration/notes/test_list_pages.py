"""The three note lists: what each shows, in which order, page by page."""

from __future__ import annotations

import base64
import html
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from app.models import utcnow

TITLE = re.compile(r'<a class="note-title" href="/notes/(\d+)">([^<]*)</a>')
OLDER = re.compile(r'<a class="button" rel="next" href="([^"]+)">Older notes</a>')
BASE = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


def _titles(response) -> list[str]:
    return [html.unescape(title) for _, title in TITLE.findall(response.get_data(as_text=True))]


def _at(hours: int) -> datetime:
    return BASE + timedelta(hours=hours)


def test_pinned_first_then_most_recently_updated(client, logged_in, factory):
    factory.note(logged_in, title="old pinned", pinned=True, updated_at=_at(1))
    factory.note(logged_in, title="newest", updated_at=_at(40))
    factory.note(logged_in, title="middle", updated_at=_at(20))
    factory.note(logged_in, title="new pinned", pinned=True, updated_at=_at(30))
    factory.note(logged_in, title="oldest", updated_at=_at(0))
    response = client.get("/notes/")
    assert response.status_code == 200
    assert _titles(response) == ["new pinned", "old pinned", "newest", "middle", "oldest"]
    assert response.data.count(b'<span class="badge">Pinned</span>') == 2


def test_editing_a_note_moves_it_to_the_top(client, logged_in, factory):
    factory.note(logged_in, title="first", updated_at=_at(2))
    second = factory.note(logged_in, title="second", updated_at=_at(1))
    assert _titles(client.get("/notes/")) == ["first", "second"]
    client.post(f"/notes/{second.id}/edit", data={"title": "second", "content": "changed", "version": "1"})
    assert _titles(client.get("/notes/")) == ["second", "first"]


def test_only_the_users_own_notes_are_listed(client, logged_in, factory):
    factory.note(logged_in, title="mine")
    factory.note(factory.user("bob@example.com"), title="bobs")
    assert _titles(client.get("/notes/")) == ["mine"]


def test_older_notes_link_walks_every_note_once(client, app, logged_in, factory):
    app.config["NOTES_PER_PAGE"] = 5
    for i in range(12):
        pinned = i in (3, 7)
        factory.note(logged_in, title=f"note {i:02}", pinned=pinned, updated_at=_at(i))
    expected = ["note 07", "note 03"] + [f"note {i:02}" for i in range(11, -1, -1) if i not in (3, 7)]

    seen: list[list[str]] = []
    url: str | None = "/notes/"
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200
        seen.append(_titles(response))
        link = OLDER.search(response.get_data(as_text=True))
        url = html.unescape(link.group(1)) if link else None
        assert len(seen) <= 3, "the walk should end after three pages"
    assert [len(page) for page in seen] == [5, 5, 2]
    assert [title for page in seen for title in page] == expected


def test_exactly_one_full_page_has_no_older_link(client, app, logged_in, factory):
    app.config["NOTES_PER_PAGE"] = 5
    for _ in range(5):
        factory.note(logged_in)
    response = client.get("/notes/")
    assert len(_titles(response)) == 5
    assert b"Older notes" not in response.data


def test_broken_cursor_is_a_400_that_says_what_to_do(client, logged_in):
    response = client.get("/notes/?cursor=not-a-real-cursor")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert b"That page link is broken; start again from the first page." in response.data


def test_list_views_show_only_their_notes(client, logged_in, factory):
    now = utcnow()
    factory.note(logged_in, title="live")
    factory.note(logged_in, title="archived", archived=True)
    factory.note(logged_in, title="trashed", deleted_at=now)
    factory.note(logged_in, title="archived then trashed", archived=True, deleted_at=now)
    assert _titles(client.get("/notes/")) == ["live"]
    assert _titles(client.get("/notes/archive")) == ["archived"]
    assert sorted(_titles(client.get("/notes/trash"))) == ["archived then trashed", "trashed"]


def test_trash_offers_restore_and_purge_instead_of_pin_and_archive(client, logged_in, factory):
    note = factory.note(logged_in, deleted_at=utcnow())
    page = client.get("/notes/trash").get_data(as_text=True)
    assert f'action="/notes/{note.id}/restore"' in page
    assert f'action="/notes/{note.id}/purge"' in page
    assert f'action="/notes/{note.id}/pin"' not in page


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("/notes/", b"No notes yet."),
        ("/notes/archive", b"Nothing archived."),
        ("/notes/trash", b"The trash is empty."),
    ],
)
def test_empty_states(client, logged_in, url, text):
    response = client.get(url)
    assert response.status_code == 200
    assert text in response.data
    assert b'class="note-list"' not in response.data


def test_a_forged_cursor_out_of_any_database_range_is_a_400_page(client, logged_in, subtests):
    for payload in [[True, "0001-01-01T00:00:00+14:00", 5], [False, "2030-01-01T00:00:00+00:00", 2**63]]:
        with subtests.test(payload=payload):
            cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
            response = client.get("/notes/", query_string={"cursor": cursor})
            assert response.status_code == 400
            assert b"That page link is broken; start again from the first page." in response.data
