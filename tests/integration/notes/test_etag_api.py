"""ETags on notes: conditional GET, and If-Match guarding every write."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.helpers.api import API, assert_problem, etag, fresh_note


@pytest.fixture
def note(factory, user):  # type: ignore[no-untyped-def]
    return factory.note(user, title="Original", content="v1")


def test_etag_names_id_and_version(client, headers, note):
    assert client.get(f"{API}/notes/{note.id}", headers=headers).headers["ETag"] == f'"{note.id}-1"'


def test_if_none_match_with_current_etag_is_304(client, headers, note):
    response = client.get(f"{API}/notes/{note.id}", headers={**headers, "If-None-Match": etag(note)})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag(note)


def test_if_none_match_with_old_etag_returns_the_new_note(client, headers, note):
    old = etag(note)
    client.patch(f"{API}/notes/{note.id}", json={"content": "v2"}, headers={**headers, "If-Match": old})
    response = client.get(f"{API}/notes/{note.id}", headers={**headers, "If-None-Match": old})
    assert response.status_code == 200
    assert response.get_json()["content"] == "v2"
    assert response.headers["ETag"] == f'"{note.id}-2"'


def test_patch_without_if_match_is_428_and_changes_nothing(client, headers, note):
    body = assert_problem(client.patch(f"{API}/notes/{note.id}", json={"title": "New"}, headers=headers), 428)
    assert "If-Match" in body["detail"]
    stored = fresh_note(note.id)
    assert stored is not None and (stored.title, stored.version) == ("Original", 1)


def test_patch_with_stale_if_match_is_412_and_keeps_the_other_edit(client, headers, note):
    stale = etag(note)
    first = client.patch(f"{API}/notes/{note.id}", json={"content": "theirs"}, headers={**headers, "If-Match": stale})
    assert first.status_code == 200

    body = assert_problem(
        client.patch(f"{API}/notes/{note.id}", json={"content": "mine"}, headers={**headers, "If-Match": stale}), 412
    )
    assert "GET it again" in body["detail"]
    stored = fresh_note(note.id)
    assert stored is not None and (stored.content, stored.version) == ("theirs", 2)


def test_patch_with_an_if_match_that_is_not_the_current_etag_is_412(client, headers, note, subtests):
    assert note.id == 1  # so the first two candidates differ from its ETag in one part only
    for if_match in ['"999-1"', '"1-999"', "garbage", 'W/"1-1"']:
        with subtests.test(if_match=if_match):
            response = client.patch(
                f"{API}/notes/{note.id}", json={"title": "x"}, headers={**headers, "If-Match": if_match}
            )
            assert_problem(response, 412)
            stored = fresh_note(note.id)
            assert stored is not None and stored.title == "Original"


def test_patch_accepts_any_of_several_etags(client, headers, note):
    response = client.patch(
        f"{API}/notes/{note.id}", json={"title": "x"}, headers={**headers, "If-Match": f'"0-0", {etag(note)}'}
    )
    assert response.status_code == 200


def test_patch_with_if_match_star_is_accepted(client, headers, note):
    response = client.patch(f"{API}/notes/{note.id}", json={"title": "Forced"}, headers={**headers, "If-Match": "*"})
    assert response.status_code == 200
    stored = fresh_note(note.id)
    assert stored is not None and (stored.title, stored.version) == ("Forced", 2)


def test_delete_with_stale_if_match_is_412_and_keeps_the_note_live(client, headers, note):
    assert_problem(client.delete(f"{API}/notes/{note.id}", headers={**headers, "If-Match": '"1-0"'}), 412)
    stored = fresh_note(note.id)
    assert stored is not None and stored.deleted_at is None


def test_delete_with_current_if_match_trashes(client, headers, note):
    assert client.delete(f"{API}/notes/{note.id}", headers={**headers, "If-Match": etag(note)}).status_code == 204
    stored = fresh_note(note.id)
    assert stored is not None and stored.deleted_at is not None


def test_restore_with_stale_if_match_is_412_and_keeps_it_trashed(client, headers, factory, user):
    trashed = factory.note(user, deleted_at=datetime(2020, 1, 1, tzinfo=UTC))
    response = client.post(f"{API}/notes/{trashed.id}/restore", headers={**headers, "If-Match": '"1-99"'})
    assert_problem(response, 412)
    stored = fresh_note(trashed.id)
    assert stored is not None and stored.deleted_at is not None


def test_delete_forever_with_stale_if_match_is_412_and_keeps_the_row(client, headers, factory, user):
    trashed = factory.note(user, deleted_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert_problem(client.delete(f"{API}/trash/{trashed.id}", headers={**headers, "If-Match": '"1-99"'}), 412)
    assert fresh_note(trashed.id) is not None
