"""GET /api/v1/notes: filters, order and keyset cursor pagination."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from tests.helpers.api import API, assert_problem

BASE = datetime(2020, 1, 1, tzinfo=UTC)  # in the past, so notes touched now sort first


def _titles(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["title"] for item in response.get_json()["items"]]


def _walk(client, headers, query: str = "", limit: int = 20) -> list[list[int]]:  # type: ignore[no-untyped-def]
    """Follow next_cursor to the end; return the ids on each page."""
    pages: list[list[int]] = []
    cursor = None
    while True:
        url = f"{API}/notes?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=headers).get_json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "pagination does not terminate"


@pytest.fixture
def mixed(factory, user):  # type: ignore[no-untyped-def]
    """One note in each state, named after it."""
    factory.note(user, title="live")
    factory.note(user, title="pinned", pinned=True)
    factory.note(user, title="archived", archived=True)
    factory.note(user, title="trashed", deleted_at=BASE)
    factory.note(user, title="archived-trashed", archived=True, deleted_at=BASE)


def test_filters_select_notes_by_state(client, headers, mixed, subtests):
    for query, expected in [
        ("", {"live", "pinned"}),
        ("?archived=true", {"archived"}),
        ("?archived=false", {"live", "pinned"}),
        ("?trashed=true", {"trashed", "archived-trashed"}),
        ("?trashed=true&archived=false", {"trashed"}),
        ("?trashed=true&archived=true", {"archived-trashed"}),
        ("?pinned=true", {"pinned"}),
        ("?pinned=false", {"live"}),
    ]:
        with subtests.test(query=query, expected=expected):
            assert set(_titles(client.get(f"{API}/notes{query}", headers=headers))) == expected


def test_list_only_shows_the_callers_notes(client, headers, factory, user):
    factory.note(user, title="mine")
    factory.note(factory.user("bob@example.com"), title="bobs")
    assert _titles(client.get(f"{API}/notes", headers=headers)) == ["mine"]


def test_pinned_first_then_most_recently_updated(client, headers, factory, user):
    factory.note(user, title="old", updated_at=BASE)
    factory.note(user, title="new", updated_at=BASE + timedelta(hours=2))
    factory.note(user, title="pinned-old", pinned=True, updated_at=BASE - timedelta(days=1))
    factory.note(user, title="middle", updated_at=BASE + timedelta(hours=1))
    assert _titles(client.get(f"{API}/notes", headers=headers)) == ["pinned-old", "new", "middle", "old"]


def test_editing_a_note_moves_it_to_the_top(client, headers, factory, user):
    old = factory.note(user, title="old", updated_at=BASE)
    factory.note(user, title="new", updated_at=BASE + timedelta(hours=1))
    etag = client.get(f"{API}/notes/{old.id}", headers=headers).headers["ETag"]
    response = client.patch(f"{API}/notes/{old.id}", json={"content": "edited"}, headers={**headers, "If-Match": etag})
    assert response.status_code == 200
    assert _titles(client.get(f"{API}/notes", headers=headers)) == ["old", "new"]


def test_cursor_walks_every_note_exactly_once_in_order(client, headers, factory, user):
    notes = [
        factory.note(user, title=f"n{i}", pinned=i % 7 == 0, updated_at=BASE + timedelta(minutes=i)) for i in range(45)
    ]
    expected = [n.id for n in sorted(notes, key=lambda n: (n.pinned, n.updated_at, n.id), reverse=True)]

    pages = _walk(client, headers, limit=20)

    assert [len(p) for p in pages] == [20, 20, 5]
    assert [note_id for page in pages for note_id in page] == expected


def test_cursor_breaks_ties_on_equal_timestamps_by_id(client, headers, factory, user):
    ids = [factory.note(user, updated_at=BASE).id for _ in range(25)]
    pages = _walk(client, headers, limit=10)
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [note_id for page in pages for note_id in page] == sorted(ids, reverse=True)


def test_cursor_pagination_of_the_trash(client, headers, factory, user):
    ids = {factory.note(user, deleted_at=BASE, updated_at=BASE + timedelta(seconds=i)).id for i in range(7)}
    factory.note(user, title="live")
    pages = _walk(client, headers, query="&trashed=true", limit=3)
    flat = [note_id for page in pages for note_id in page]
    assert len(flat) == len(set(flat)) == 7
    assert set(flat) == ids


def test_a_note_created_while_paging_is_not_repeated_or_skipped_over(client, headers, factory, user):
    ids = [factory.note(user, updated_at=BASE + timedelta(minutes=i)).id for i in range(6)]
    first = client.get(f"{API}/notes?limit=3", headers=headers).get_json()
    factory.note(user, title="newcomer")  # newest, so it belongs before page 1
    second = client.get(f"{API}/notes?limit=3&cursor={first['next_cursor']}", headers=headers).get_json()
    seen = [n["id"] for n in first["items"] + second["items"]]
    assert seen == sorted(ids, reverse=True)
    assert second["next_cursor"] is None


def test_next_cursor_is_null_when_everything_fits(client, headers, factory, user):
    for _ in range(20):
        factory.note(user)
    body = client.get(f"{API}/notes?limit=20", headers=headers).get_json()
    assert len(body["items"]) == 20
    assert body["next_cursor"] is None


def test_empty_list(client, headers):
    assert client.get(f"{API}/notes", headers=headers).get_json() == {"items": [], "next_cursor": None}


def test_limit_bounds_are_accepted(client, headers, factory, user, subtests):
    for _ in range(3):
        factory.note(user)
    for limit in [1, 100]:
        with subtests.test(limit=limit):
            body = client.get(f"{API}/notes?limit={limit}", headers=headers).get_json()
            assert len(body["items"]) == min(limit, 3)


def test_limit_out_of_bounds_is_422(client, headers, subtests):
    for limit in ["0", "101", "-1", "ten"]:
        with subtests.test(limit=limit):
            body = assert_problem(client.get(f"{API}/notes?limit={limit}", headers=headers), 422)
            assert list(body["errors"]) == ["limit"]


def _b64(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_bad_cursor_is_400_with_a_helpful_detail(client, headers, subtests):
    for cursor in [
        "not-a-cursor",
        "!!!",
        _b64({"a": 1}),
        _b64([True, "2030-01-01T00:00:00+00:00"]),  # one value short
        _b64([True, "2030-01-01T00:00:00", 5]),  # naive timestamp
        _b64([1, "2030-01-01T00:00:00+00:00", 5]),  # pinned is not a bool
        _b64([True, "yesterday", 5]),
        _b64([True, "2030-01-01T00:00:00+00:00", "5"]),
    ]:
        with subtests.test(cursor=cursor):
            body = assert_problem(client.get(f"{API}/notes", query_string={"cursor": cursor}, headers=headers), 400)
            assert "next_cursor" in body["detail"]


def test_overlong_cursor_is_a_field_error(client, headers):
    body = assert_problem(client.get(f"{API}/notes", query_string={"cursor": "a" * 201}, headers=headers), 422)
    assert "cursor" in body["errors"]


def test_unknown_query_argument_is_422(client, headers, subtests):
    for query in ["pinend=true", "page=2", "offset=10"]:
        with subtests.test(query=query):
            body = assert_problem(client.get(f"{API}/notes?{query}", headers=headers), 422)
            assert query.split("=")[0] in body["errors"]


def test_non_boolean_filter_is_422(client, headers, subtests):
    for arg in ["archived", "trashed", "pinned"]:
        with subtests.test(arg=arg):
            body = assert_problem(client.get(f"{API}/notes?{arg}=maybe", headers=headers), 422)
            assert arg in body["errors"]


def test_a_forged_cursor_out_of_any_database_range_is_400_not_500(client, headers, subtests):
    for payload in [[True, "0001-01-01T00:00:00+14:00", 5], [False, "2030-01-01T00:00:00+00:00", 2**63]]:
        with subtests.test(payload=payload):
            response = client.get(f"{API}/notes", query_string={"cursor": _b64(payload)}, headers=headers)
            assert "next_cursor" in assert_problem(response, 400)["detail"]
