"""Files on notes through the API: /api/v1/notes/{id}/attachments."""

from __future__ import annotations

import io

from tests.helpers.api import API, assert_problem, count
from tests.helpers.images import jpeg_with_location, location_of, png
from tests.helpers.web import bearer

from app.models import Attachment
from app.notes.service import trash_note


def post_file(client, note_id: int, secret: str, data: bytes, name: str = "file.bin", **headers: str):
    return client.post(
        f"{API}/notes/{note_id}/attachments",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers={**bearer(secret), **headers},
    )


def test_upload_list_read_download_and_delete(client, factory):
    user = factory.user()
    _, secret = factory.token(user)
    note = factory.note(user, title="Trip")

    created = post_file(client, note.id, secret, jpeg_with_location(), "beach.jpg")
    assert created.status_code == 201
    body = created.get_json()
    key = body["key"]
    assert body["content_type"] == "image/jpeg" and body["note_id"] == note.id
    assert body["markdown"] == f"![beach](attachment:{key})"
    assert body["content_url"] == f"{API}/notes/{note.id}/attachments/{key}/content"

    listed = client.get(f"{API}/notes/{note.id}/attachments", headers=bearer(secret)).get_json()
    assert [item["key"] for item in listed["items"]] == [key]
    assert client.get(f"{API}/notes/{note.id}/attachments/{key}", headers=bearer(secret)).get_json() == body

    content = client.get(body["content_url"], headers=bearer(secret))
    assert content.status_code == 200 and content.headers["Content-Type"] == "image/jpeg"
    assert location_of(content.data) == {} and len(content.data) == body["size"]

    assert client.delete(f"{API}/notes/{note.id}/attachments/{key}", headers=bearer(secret)).status_code == 204
    assert count(Attachment) == 0
    assert_problem(client.get(body["content_url"], headers=bearer(secret)), 404)


def test_bad_uploads_are_problems_and_keep_nothing(app, client, factory):
    user = factory.user()
    _, secret = factory.token(user)
    note = factory.note(user, title="Files")

    wrong_field = client.post(
        f"{API}/notes/{note.id}/attachments",
        data={"upload": (io.BytesIO(b"x"), "x.txt")},
        content_type="multipart/form-data",
        headers=bearer(secret),
    )
    assert "multipart form field 'file'" in assert_problem(wrong_field, 400)["detail"]
    raw = client.post(f"{API}/notes/{note.id}/attachments", data=b"x", content_type="image/png", headers=bearer(secret))
    assert "multipart/form-data" in assert_problem(raw, 415)["detail"]
    assert "empty" in assert_problem(post_file(client, note.id, secret, b"", "e.txt"), 422)["detail"]
    app.config["ATTACHMENT_MAX_BYTES"] = 2048
    assert "larger than 2 KiB" in assert_problem(post_file(client, note.id, secret, b"x" * 2049), 413)["detail"]
    app.config["ATTACHMENT_QUOTA_BYTES"] = 2048
    assert post_file(client, note.id, secret, b"x" * 2000).status_code == 201
    assert "past 2 KiB" in assert_problem(post_file(client, note.id, secret, b"y" * 100), 413)["detail"]
    assert count(Attachment) == 1


def test_another_users_note_or_file_and_a_trashed_note_are_404s(client, factory):
    alice, bob = factory.user("alice@example.com"), factory.user("bob@example.com")
    _, alice_secret = factory.token(alice)
    _, bob_secret = factory.token(bob)
    note = factory.note(alice, title="Mine")
    key = post_file(client, note.id, alice_secret, png(), "a.png").get_json()["key"]
    bobs = factory.note(bob, title="Bob's")

    assert_problem(post_file(client, note.id, bob_secret, png()), 404)
    for path in ("", "/content"):
        assert_problem(client.get(f"{API}/notes/{note.id}/attachments/{key}{path}", headers=bearer(bob_secret)), 404)
        # Alice's file through Bob's note is no way round it.
        assert_problem(client.get(f"{API}/notes/{bobs.id}/attachments/{key}{path}", headers=bearer(bob_secret)), 404)
    assert_problem(client.delete(f"{API}/notes/{note.id}/attachments/{key}", headers=bearer(bob_secret)), 404)
    trash_note(note)
    assert_problem(post_file(client, note.id, alice_secret, png()), 404)
    assert count(Attachment) == 1
