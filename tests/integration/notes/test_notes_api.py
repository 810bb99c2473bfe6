"""Create, read, update, trash, restore and delete-forever through /api/v1/notes."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.helpers.api import API, assert_problem, count, etag, fresh_note

from app.models import Note


def _create(client, headers, **body):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/notes", json=body, headers=headers)


# --- create -------------------------------------------------------------------


def test_create_returns_201_with_location_etag_and_the_note(client, headers):
    response = _create(client, headers, title="Groceries", content="- milk", pinned=True)

    assert response.status_code == 201
    body = response.get_json()
    assert body["title"] == "Groceries"
    assert body["content"] == "- milk"
    assert body["pinned"] is True
    assert body["version"] == 1
    assert response.headers["Location"].endswith(f"{API}/notes/{body['id']}")
    assert response.headers["ETag"] == f'"{body["id"]}-1"'
    stored = fresh_note(body["id"])
    assert stored is not None and stored.title == "Groceries" and stored.owner.email == "alice@example.com"


def test_location_of_a_created_note_can_be_read_back(client, headers):
    created = _create(client, headers, title="Round trip", content="body")
    response = client.get(created.headers["Location"], headers=headers)
    assert response.status_code == 200
    assert response.get_json() == created.get_json()
    assert response.headers["ETag"] == created.headers["ETag"]


def test_create_defaults(client, headers):
    body = _create(client, headers, title="Only a title").get_json()
    assert body["content"] == ""
    assert body["pinned"] is False
    assert body["archived"] is False
    assert body["trashed"] is False
    assert body["deleted_at"] is None
    created = datetime.fromisoformat(body["created_at"])
    assert created.tzinfo is not None and abs(datetime.now(UTC) - created).total_seconds() < 60


def test_create_strips_the_title(client, headers):
    assert _create(client, headers, title="  \tPadded \n").get_json()["title"] == "Padded"


def test_create_without_a_title_takes_it_from_the_first_line_as_quick_capture_does(client, headers):
    response = _create(client, headers, content="# Groceries\n- milk\n- eggs", tags=["home"])
    assert response.status_code == 201
    body = response.get_json()
    assert (body["title"], body["content"], body["tags"]) == ("Groceries", "- milk\n- eggs", ["home"])
    long_line = " ".join(["word"] * 60)
    body = _create(client, headers, content=long_line).get_json()
    assert body["title"].endswith("…") and len(body["title"]) <= 200
    assert body["content"] == long_line  # nothing typed is lost


def test_neither_title_nor_content_says_what_to_send(client, headers):
    problem = assert_problem(_create(client, headers, pinned=True), 422)
    assert problem["errors"]["title"] == ["Give the note a title, or content whose first line becomes the title."]
    assert count(Note) == 0


def test_a_title_given_is_kept_even_when_content_is_there(client, headers):
    body = _create(client, headers, title="Mine", content="First line\nsecond").get_json()
    assert (body["title"], body["content"]) == ("Mine", "First line\nsecond")


def test_create_rejects_bad_fields_with_422_and_stores_nothing(client, headers, subtests):
    for body, field in [
        ({}, "title"),
        ({"content": ""}, "title"),
        ({"content": " \n\t"}, "title"),
        ({"content": None}, "title"),
        ({"content": "x" * 100_001}, "content"),
        ({"content": "first line\nnul\x00here"}, "content"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": None}, "title"),
        ({"title": 42}, "title"),
        ({"title": ["a"]}, "title"),
        ({"title": "bad\x00title"}, "title"),
        ({"title": "ok", "content": "x" * 100_001}, "content"),
        ({"title": "ok", "content": 7}, "content"),
        ({"title": "ok", "content": "nul\x00here"}, "content"),
        ({"title": "ok", "pinned": "maybe"}, "pinned"),
        ({"title": "ok", "archived": [True]}, "archived"),
        ({"title": "ok", "owner_id": 2}, "owner_id"),
        ({"title": "ok", "version": 9}, "version"),
        ({"title": "ok", "id": 1}, "id"),
    ]:
        with subtests.test(body=body, field=field):
            problem = assert_problem(client.post(f"{API}/notes", json=body, headers=headers), 422)
            assert field in problem["errors"]
            assert all(isinstance(m, str) and m for m in problem["errors"][field])
            assert count(Note) == 0


def test_create_reports_every_bad_field_at_once(client, headers):
    problem = assert_problem(_create(client, headers, title="", content=1, colour="red"), 422)
    assert set(problem["errors"]) == {"title", "content", "colour"}


def test_title_and_content_at_their_limits_are_accepted(client, headers):
    response = _create(client, headers, title="t" * 200, content="c" * 100_000)
    assert response.status_code == 201
    stored = fresh_note(response.get_json()["id"])
    assert stored is not None and len(stored.title) == 200 and len(stored.content) == 100_000


def test_body_that_is_not_an_object_is_422(client, headers, subtests):
    for body in [[{"title": "x"}], "title", 3, None]:
        with subtests.test(body=body):
            assert_problem(client.post(f"{API}/notes", json=body, headers=headers), 422)
            assert count(Note) == 0


# --- read ---------------------------------------------------------------------


def test_get_returns_the_note_with_its_etag(client, headers, factory, user):
    note = factory.note(user, title="Read me", content="text", archived=True)
    response = client.get(f"{API}/notes/{note.id}", headers=headers)
    assert response.status_code == 200
    assert response.headers["ETag"] == etag(note)
    body = response.get_json()
    assert (body["id"], body["title"], body["content"], body["archived"]) == (note.id, "Read me", "text", True)


def test_get_unknown_note_is_404(client, headers):
    body = assert_problem(client.get(f"{API}/notes/12345", headers=headers), 404)
    assert "No such note" in body["detail"]


# --- update -------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(client, headers, factory, user):
    note = factory.note(user, title="Before", content="keep me")
    before_updated = note.updated_at
    response = client.patch(
        f"{API}/notes/{note.id}", json={"title": " After ", "pinned": True}, headers={**headers, "If-Match": etag(note)}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["title"], body["content"], body["pinned"], body["version"]) == ("After", "keep me", True, 2)
    assert response.headers["ETag"] == f'"{note.id}-2"'
    stored = fresh_note(note.id)
    assert stored is not None and stored.title == "After" and stored.pinned is True
    assert stored.updated_at > before_updated


def test_patch_with_empty_body_is_422_and_changes_nothing(client, headers, factory, user):
    note = factory.note(user)
    problem = assert_problem(client.patch(f"{API}/notes/{note.id}", json={}, headers={**headers, "If-Match": "*"}), 422)
    assert "title" in problem["errors"]["_schema"][0]
    stored = fresh_note(note.id)
    assert stored is not None and stored.version == 1


def test_patch_validates_like_create(client, headers, factory, user, subtests):
    note = factory.note(user, title="Unchanged")
    for body, field in [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"content": None}, "content"),
        ({"x": 1}, "x"),
    ]:
        with subtests.test(body=body, field=field):
            problem = assert_problem(
                client.patch(f"{API}/notes/{note.id}", json=body, headers={**headers, "If-Match": etag(note)}), 422
            )
            assert field in problem["errors"]
            stored = fresh_note(note.id)
            assert stored is not None and stored.title == "Unchanged" and stored.version == 1


def test_patch_of_a_trashed_note_is_404(client, headers, factory, user):
    note = factory.note(user, title="Binned", deleted_at=datetime(2020, 1, 1, tzinfo=UTC))
    body = assert_problem(
        client.patch(f"{API}/notes/{note.id}", json={"title": "x"}, headers={**headers, "If-Match": "*"}), 404
    )
    assert "trash" in body["detail"]
    stored = fresh_note(note.id)
    assert stored is not None and stored.title == "Binned"


def test_archiving_moves_a_note_out_of_the_default_list(client, headers, factory, user):
    note = factory.note(user)
    client.patch(f"{API}/notes/{note.id}", json={"archived": True}, headers={**headers, "If-Match": etag(note)})
    assert client.get(f"{API}/notes", headers=headers).get_json()["items"] == []
    archived = client.get(f"{API}/notes?archived=true", headers=headers).get_json()["items"]
    assert [n["id"] for n in archived] == [note.id]


# --- trash, restore, delete forever ---------------------------------------------


def _ids(client, headers, query=""):  # type: ignore[no-untyped-def]
    return [n["id"] for n in client.get(f"{API}/notes{query}", headers=headers).get_json()["items"]]


def test_delete_moves_the_note_to_the_trash(client, headers, factory, user):
    note = factory.note(user)
    response = client.delete(f"{API}/notes/{note.id}", headers=headers)
    assert response.status_code == 204
    assert response.data == b""

    got = client.get(f"{API}/notes/{note.id}", headers=headers).get_json()
    assert got["trashed"] is True and got["deleted_at"] is not None
    assert _ids(client, headers) == []
    assert _ids(client, headers, "?trashed=true") == [note.id]
    assert count(Note) == 1


def test_delete_of_a_note_already_in_the_trash_is_404(client, headers, factory, user):
    note = factory.note(user, deleted_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert_problem(client.delete(f"{API}/notes/{note.id}", headers=headers), 404)
    stored = fresh_note(note.id)
    assert stored is not None and stored.deleted_at == datetime(2020, 1, 1, tzinfo=UTC)


def test_restore_takes_a_note_out_of_the_trash(client, headers, factory, user):
    note = factory.note(user)
    client.delete(f"{API}/notes/{note.id}", headers=headers)
    response = client.post(f"{API}/notes/{note.id}/restore", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["trashed"] is False
    assert response.headers["ETag"] == f'"{note.id}-3"'
    assert _ids(client, headers) == [note.id]
    assert _ids(client, headers, "?trashed=true") == []


def test_restore_of_a_live_note_is_409(client, headers, factory, user):
    note = factory.note(user)
    body = assert_problem(client.post(f"{API}/notes/{note.id}/restore", headers=headers), 409)
    assert "not in the trash" in body["detail"]
    stored = fresh_note(note.id)
    assert stored is not None and stored.version == 1


def test_delete_forever_of_a_live_note_is_409_and_keeps_it(client, headers, factory, user):
    note = factory.note(user)
    body = assert_problem(client.delete(f"{API}/trash/{note.id}", headers=headers), 409)
    assert f"DELETE /api/v1/notes/{note.id}" in body["detail"]
    assert fresh_note(note.id) is not None


def test_delete_forever_after_trash_removes_the_row(client, headers, factory, user):
    note = factory.note(user)
    keep = factory.note(user)
    assert client.delete(f"{API}/notes/{note.id}", headers=headers).status_code == 204

    response = client.delete(f"{API}/trash/{note.id}", headers=headers)
    assert response.status_code == 204
    assert fresh_note(note.id) is None
    assert count(Note) == 1 and fresh_note(keep.id) is not None
    assert_problem(client.get(f"{API}/notes/{note.id}", headers=headers), 404)
    assert_problem(client.delete(f"{API}/trash/{note.id}", headers=headers), 404)
