"""/api/v1/notes/{id}/revisions: list, read, restore; ownership, If-Match, folding by client."""

from __future__ import annotations

from typing import Any

import pytest
from tests.helpers.api import API, assert_problem, count, etag, fresh_note
from tests.helpers.web import bearer

from app.models import NoteRevision, db


@pytest.fixture
def note(factory, user):  # type: ignore[no-untyped-def]
    return factory.note(user, title="Original", content="v1")


def _patch(client, headers, note_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    current = client.get(f"{API}/notes/{note_id}", headers=headers).headers["ETag"]
    response = client.patch(f"{API}/notes/{note_id}", json=body, headers={**headers, "If-Match": current})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def _revisions(client, headers, note_id: int, query: str = "") -> Any:  # type: ignore[no-untyped-def]
    response = client.get(f"{API}/notes/{note_id}/revisions{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_a_patch_leaves_a_revision_listed_without_its_content(client, headers, note):
    _patch(client, headers, note.id, {"title": "New", "content": "v2", "tags": ["Work"]})
    page = _revisions(client, headers, note.id)
    assert page["next_cursor"] is None
    [item] = page["items"]
    assert "content" not in item
    assert item["note_id"] == note.id and item["note_version"] == 1
    assert (item["title"], item["tags"], item["replaced_via"], item["restored_from"]) == ("Original", [], "token", None)
    for field in ("saved_at", "replaced_at", "last_save_at"):
        assert item[field].endswith("+00:00")


def test_one_revision_holds_its_content(client, headers, note):
    _patch(client, headers, note.id, {"tags": ["a"]})
    _patch(client, headers, note.id, {"content": "v2"})  # same token, within the window: folds
    [item] = _revisions(client, headers, note.id)["items"]
    body = client.get(f"{API}/notes/{note.id}/revisions/{item['id']}", headers=headers).get_json()
    assert (body["title"], body["content"], body["tags"], body["id"]) == ("Original", "v1", [], item["id"])


def test_saves_through_another_token_or_the_browser_session_are_other_clients(
    client, headers, note, factory, user, auth
):
    _patch(client, headers, note.id, {"content": "by token one"})
    _, second = factory.token(user, name="second")
    _patch(client, bearer(second), note.id, {"content": "by token two"})
    auth.login()
    _patch(client, {}, note.id, {"content": "by the browser"})
    _patch(client, {}, note.id, {"content": "by the browser, again"})
    items = _revisions(client, headers, note.id)["items"]
    assert [(i["replaced_via"]) for i in items] == ["session", "token", "token"]
    contents = [client.get(f"{API}/notes/{note.id}/revisions/{i['id']}", headers=headers).get_json() for i in items]
    assert [c["content"] for c in contents] == ["by token two", "by token one", "v1"]


def test_the_list_pages_like_the_notes_list(client, headers, app, note):
    app.config["REVISION_FOLD_WINDOW"] = app.config["REVISION_FOLD_WINDOW"] * 0
    for n in range(3):
        _patch(client, headers, note.id, {"content": f"c{n}"})
    first = _revisions(client, headers, note.id, "?limit=2")
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = _revisions(client, headers, note.id, f"?limit=2&cursor={first['next_cursor']}")
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    ids = [i["id"] for i in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True)


@pytest.mark.parametrize(
    ("query", "status"), [("?cursor=garbage", 400), ("?limit=0", 422), ("?limit=101", 422), ("?typo=1", 422)]
)
def test_bad_list_arguments_are_refused(client, headers, note, query, status):
    assert_problem(client.get(f"{API}/notes/{note.id}/revisions{query}", headers=headers), status)


def test_unknown_revisions_and_notes_are_404(client, headers, note, factory, user):
    _patch(client, headers, note.id, {"content": "v2"})
    other = factory.note(user, title="Other")
    _patch(client, headers, other.id, {"content": "changed"})
    [theirs] = _revisions(client, headers, other.id)["items"]
    for url in (
        f"{API}/notes/{note.id}/revisions/9999",
        f"{API}/notes/{note.id}/revisions/{theirs['id']}",  # a revision of another note
        f"{API}/notes/9999/revisions",
        f"{API}/notes/9999/revisions/{theirs['id']}",
    ):
        assert_problem(client.get(url, headers=headers), 404)
    response = client.post(
        f"{API}/notes/{note.id}/revisions/{theirs['id']}/restore", headers={**headers, "If-Match": "*"}
    )
    assert_problem(response, 404)
    assert fresh_note(note.id).content == "v2"  # type: ignore[union-attr]


def test_another_users_note_and_revisions_are_404(client, note, factory, headers):
    _patch(client, headers, note.id, {"content": "secret v2"})
    [item] = _revisions(client, headers, note.id)["items"]
    bob = factory.user("bob@example.com")
    _, secret = factory.token(bob)
    bobs = bearer(secret)
    before = count(NoteRevision)
    for response in (
        client.get(f"{API}/notes/{note.id}/revisions", headers=bobs),
        client.get(f"{API}/notes/{note.id}/revisions/{item['id']}", headers=bobs),
        client.post(f"{API}/notes/{note.id}/revisions/{item['id']}/restore", headers={**bobs, "If-Match": "*"}),
    ):
        body = assert_problem(response, 404)
        assert "secret" not in str(body) and "Original" not in str(body)
    stored = fresh_note(note.id)
    assert stored is not None and (stored.content, stored.version) == ("secret v2", 2)
    assert count(NoteRevision) == before


def test_restore_makes_a_new_version_and_keeps_the_history(client, headers, note):
    _patch(client, headers, note.id, {"title": "Changed", "content": "v2", "tags": ["t"]})
    [item] = _revisions(client, headers, note.id)["items"]
    response = client.post(
        f"{API}/notes/{note.id}/revisions/{item['id']}/restore", headers={**headers, "If-Match": f'"{note.id}-2"'}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["title"], body["content"], body["tags"], body["version"]) == ("Original", "v1", [], 3)
    assert response.headers["ETag"] == f'"{note.id}-3"'
    items = _revisions(client, headers, note.id)["items"]
    assert [(i["title"], i["note_version"], i["restored_from"]) for i in items] == [
        ("Changed", 2, item["id"]),
        ("Original", 1, None),
    ]


def test_restore_with_a_stale_if_match_is_412_and_changes_nothing(client, headers, note):
    stale = etag(note)
    _patch(client, headers, note.id, {"content": "v2"})
    [item] = _revisions(client, headers, note.id)["items"]
    before = count(NoteRevision)
    response = client.post(
        f"{API}/notes/{note.id}/revisions/{item['id']}/restore", headers={**headers, "If-Match": stale}
    )
    body = assert_problem(response, 412)
    assert "GET it again" in body["detail"]
    stored = fresh_note(note.id)
    assert stored is not None and (stored.content, stored.version) == ("v2", 2)
    assert count(NoteRevision) == before


def test_restore_without_if_match_is_428_and_changes_nothing(client, headers, note):
    _patch(client, headers, note.id, {"content": "v2"})
    [item] = _revisions(client, headers, note.id)["items"]
    body = assert_problem(client.post(f"{API}/notes/{note.id}/revisions/{item['id']}/restore", headers=headers), 428)
    assert "If-Match" in body["detail"]
    stored = fresh_note(note.id)
    assert stored is not None and (stored.content, stored.version) == ("v2", 2)
    assert count(NoteRevision) == 1


def test_a_trashed_notes_history_can_be_read_but_not_restored(client, headers, note):
    _patch(client, headers, note.id, {"content": "v2"})
    assert client.delete(f"{API}/notes/{note.id}", headers=headers).status_code == 204
    [item] = _revisions(client, headers, note.id)["items"]
    assert client.get(f"{API}/notes/{note.id}/revisions/{item['id']}", headers=headers).status_code == 200
    response = client.post(
        f"{API}/notes/{note.id}/revisions/{item['id']}/restore", headers={**headers, "If-Match": "*"}
    )
    assert_problem(response, 404)
    db.session.expire_all()
    assert fresh_note(note.id).content == "v2"  # type: ignore[union-attr]


def test_a_read_only_token_cannot_restore(client, note, factory, user, headers):
    _patch(client, headers, note.id, {"content": "v2"})
    [item] = _revisions(client, headers, note.id)["items"]
    _, secret = factory.token(user, scope="read", name="reader")
    reader = bearer(secret)
    assert client.get(f"{API}/notes/{note.id}/revisions", headers=reader).status_code == 200
    response = client.post(f"{API}/notes/{note.id}/revisions/{item['id']}/restore", headers={**reader, "If-Match": "*"})
    assert_problem(response, 403)


def test_answers_have_the_documented_fields(client, headers, note):
    schemas = client.get(f"{API}/openapi.json").get_json()["components"]["schemas"]
    _patch(client, headers, note.id, {"content": "v2"})
    page = _revisions(client, headers, note.id)
    assert set(page) == set(schemas["RevisionPage"]["properties"])
    [item] = page["items"]
    assert set(item) == set(schemas["RevisionSummary"]["properties"])
    one = client.get(f"{API}/notes/{note.id}/revisions/{item['id']}", headers=headers).get_json()
    assert set(one) == set(schemas["Revision"]["properties"])
    assert one["replaced_via"] in schemas["Revision"]["properties"]["replaced_via"]["enum"]
