"""Files on notes through the pages: upload, show, download, delete, and the bytes following their rows."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from tests.helpers.data import PASSWORD
from tests.helpers.images import jpeg_with_location, location_of, png

from app.db.types import utcnow
from app.models import Attachment, Note, db
from app.notes.service import purge_expired_trash, trash_note

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
JSON = {"Accept": "application/json"}


def stored_files(app: Flask) -> list[Path]:
    return sorted(p for p in Path(app.config["ATTACHMENTS_DIR"]).glob("??/*") if not p.name.startswith("."))


def upload(client, note_id: int, data: bytes, name: str, **kwargs):
    return client.post(
        f"/notes/{note_id}/files", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data", **kwargs
    )


def test_an_uploaded_photo_loses_its_location_and_shows_in_the_note(app, client, logged_in, factory):
    note = factory.note(logged_in, title="Trip")
    photo = jpeg_with_location()
    assert location_of(photo)  # the test's photo does say where it was taken

    response = upload(client, note.id, photo, "beach.jpg", follow_redirects=True)
    assert response.status_code == 200
    attachment = db.session.scalars(sa.select(Attachment)).one()
    assert (attachment.filename, attachment.content_type) == ("beach.jpg", "image/jpeg")
    reference = f"![beach](attachment:{attachment.key})"
    assert reference in response.get_data(as_text=True)  # the flash says what to write

    served = client.get(f"/notes/files/{attachment.key}")
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["Content-Disposition"].startswith('inline; filename="beach.jpg"')
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert location_of(served.data) == {} and served.data[:2] == b"\xff\xd8"
    assert len(served.data) == attachment.size

    note = db.session.get(Note, note.id)
    client.post(
        f"/notes/{note.id}/edit", data={"title": "Trip", "content": f"Look: {reference}", "version": note.version}
    )
    page = client.get(f"/notes/{note.id}").get_data(as_text=True)
    assert f'<img src="/notes/files/{attachment.key}" alt="beach">' in page


def test_the_editors_script_gets_json_with_the_line_to_insert(client, logged_in, factory):
    note = factory.note(logged_in, title="Doc")
    response = upload(client, note.id, b"%PDF-1.4 minutes", "minutes.pdf", headers=JSON)
    assert response.status_code == 201
    body = response.get_json()
    assert body["content_type"] == "application/pdf" and body["filename"] == "minutes.pdf"
    assert body["markdown"] == f"[minutes.pdf](attachment:{body['key']})"
    assert body["content_url"] == f"/notes/files/{body['key']}"
    served = client.get(body["content_url"])
    assert served.headers["Content-Disposition"].startswith('attachment; filename="minutes.pdf"')


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (SVG, "logo.svg", "text/plain; charset=utf-8"),
        (b"<html><script>alert(1)</script></html>", "page.png", "text/plain; charset=utf-8"),
        (bytes(range(256)) * 4, "photo.jpg", "application/octet-stream"),
    ],
)
def test_the_type_comes_from_the_bytes_and_only_raster_images_are_inline(
    client, logged_in, factory, data, name, expected
):
    note = factory.note(logged_in, title="Files")
    response = client.post(
        f"/notes/{note.id}/files",
        data={"file": (io.BytesIO(data), name, "image/svg+xml")},  # what the client claims counts for nothing
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert response.status_code == 201
    served = client.get(response.get_json()["content_url"])
    assert served.headers["Content-Type"] == expected
    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.data == data


def test_a_name_with_a_path_and_odd_characters_is_kept_safely(client, logged_in, factory):
    note = factory.note(logged_in, title="Files")
    body = upload(client, note.id, b"notes", "../home/me/r\u00e9sum\u00e9 (v2)\x07.txt", headers=JSON).get_json()
    assert body["filename"] == "r\u00e9sum\u00e9 (v2).txt"
    disposition = client.get(body["content_url"]).headers["Content-Disposition"]
    assert disposition == "attachment; filename=\"resume (v2).txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%28v2%29.txt"


def test_no_file_an_empty_one_and_a_trashed_or_foreign_note_are_refused(app, client, logged_in, factory):
    note = factory.note(logged_in, title="Files")
    missing = client.post(f"/notes/{note.id}/files", data={}, content_type="multipart/form-data")
    assert missing.status_code == 400 and "Choose a file to attach." in missing.get_data(as_text=True)
    empty = upload(client, note.id, b"", "empty.txt", headers=JSON)
    assert empty.status_code == 422 and "The file is empty" in empty.get_json()["detail"]

    other = factory.note(factory.user("bob@example.com"), title="Bob's")
    assert upload(client, other.id, b"x", "x.txt").status_code == 404
    trash_note(note)
    assert upload(client, note.id, b"x", "x.txt").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0 and stored_files(app) == []


def test_a_file_over_the_size_limit_is_refused_and_nothing_is_kept(app, client, logged_in, factory):
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    note = factory.note(logged_in, title="Files")
    response = upload(client, note.id, b"x" * 1025, "big.txt", follow_redirects=True)
    assert response.status_code == 413
    assert "The file is larger than 1 KiB; attach a smaller one." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == 0 and stored_files(app) == []
    # A body far over the limit never reaches the view: the one error handler's 413.
    assert upload(client, note.id, b"x" * 200_000, "huge.txt", headers=JSON).status_code == 413


def test_the_quota_counts_every_file_of_the_user_and_refuses_past_it(app, client, logged_in, factory):
    app.config["ATTACHMENT_QUOTA_BYTES"] = 3 * 1024 * 1024
    first = factory.note(logged_in, title="One")
    second = factory.note(logged_in, title="Two")
    assert upload(client, first.id, b"a" * 2 * 1024 * 1024, "a.bin", headers=JSON).status_code == 201
    refused = upload(client, second.id, b"b" * (1024 * 1024 + 1), "b.bin", headers=JSON)
    assert refused.status_code == 413
    assert refused.get_json()["detail"] == (
        "That would take your attachments past 3 MiB (2 MiB used); delete some attachments first."
    )
    assert len(stored_files(app)) == 1
    # Another user's files do not count against this one.
    bob = factory.user("bob@example.com")
    factory.note(bob, title="Bob's")
    assert upload(client, second.id, b"b" * 1024 * 1024, "b.bin", headers=JSON).status_code == 201


def test_an_image_too_large_to_decode_is_refused(client, logged_in, factory):
    out = io.BytesIO()
    from PIL import Image

    Image.new("1", (9000, 8000)).save(out, "PNG")  # 72 million pixels in a few kilobytes
    note = factory.note(logged_in, title="Files")
    response = upload(client, note.id, out.getvalue(), "bomb.png", headers=JSON)
    assert response.status_code == 422
    assert "more than 64 million pixels" in response.get_json()["detail"]


def test_another_users_file_is_a_404(client, logged_in, factory, auth):
    note = factory.note(logged_in, title="Mine")
    key = upload(client, note.id, png(), "me.png", headers=JSON).get_json()["key"]
    auth.logout()
    factory.user("bob@example.com")
    auth.login("bob@example.com")
    assert client.get(f"/notes/files/{key}").status_code == 404
    assert client.post(f"/notes/{note.id}/files/{key}/delete").status_code == 404
    assert client.get("/notes/files/..%2f..%2fetc%2fpasswd").status_code == 404
    auth.logout()
    assert client.get(f"/notes/files/{key}").status_code == 302  # to the login page


def test_the_editor_lists_the_files_with_their_line_and_deletes_one(app, client, logged_in, factory):
    note = factory.note(logged_in, title="Files")
    key = upload(client, note.id, png(), "chart.png", headers=JSON).get_json()["key"]
    page = client.get(f"/notes/{note.id}/edit").get_data(as_text=True)
    assert f'value="![chart](attachment:{key})"' in page
    assert 'enctype="multipart/form-data"' in page

    response = client.post(f"/notes/{note.id}/files/{key}/delete", follow_redirects=True)
    assert response.status_code == 200 and "File deleted." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Attachment)) is None and stored_files(app) == []
    assert client.get(f"/notes/files/{key}").status_code == 404


def test_purging_a_note_emptying_the_trash_and_deleting_the_account_remove_the_bytes(app, client, logged_in, factory):
    kept, purged, expired = (factory.note(logged_in, title=t) for t in ("Kept", "Purged", "Expired"))
    for note in (kept, purged, expired):
        assert upload(client, note.id, png(), f"{note.title}.png", headers=JSON).status_code == 201
    assert len(stored_files(app)) == 3

    trash_note(purged)
    client.post(f"/notes/{purged.id}/purge")
    assert len(stored_files(app)) == 2

    trash_note(expired)
    db.session.get(Note, expired.id).deleted_at = utcnow() - timedelta(days=60)
    db.session.commit()
    assert purge_expired_trash(timedelta(days=30)) == 1
    assert len(stored_files(app)) == 1

    response = client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 302
    assert stored_files(app) == [] and db.session.scalar(sa.select(Attachment)) is None


def test_a_shared_note_shows_its_images_to_a_visitor_and_only_its_own(client, logged_in, factory):
    note = factory.note(logged_in, title="Shared")
    other = factory.note(logged_in, title="Private")
    key = upload(client, note.id, png(), "map.png", headers=JSON).get_json()["key"]
    private_key = upload(client, other.id, png(colour=(0, 0, 0)), "secret.png", headers=JSON).get_json()["key"]
    db.session.get(Note, note.id).content = f"![map](attachment:{key})"
    db.session.commit()
    flashed = client.post(f"/notes/{note.id}/shares", data={"days": ""}, follow_redirects=True)
    secret = re.search(r"/s/(shr_[A-Za-z0-9_-]+)", flashed.get_data(as_text=True)).group(1)
    client.post("/auth/logout")

    page = client.get(f"/s/{secret}").get_data(as_text=True)
    assert f'<img src="/s/{secret}/files/{key}" alt="map">' in page
    served = client.get(f"/s/{secret}/files/{key}")
    assert served.status_code == 200 and served.data == png()
    assert served.headers["Cache-Control"] == "no-store"
    assert served.headers["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in served.headers
    # The link opens its own note's files, nothing else.
    assert client.get(f"/s/{secret}/files/{private_key}").status_code == 404
    assert client.get(f"/s/shr_wrong/files/{key}").status_code == 404
    trash_note(db.session.get(Note, note.id))
    gone = client.get(f"/s/{secret}/files/{key}")
    assert gone.status_code == 404 and gone.headers["Cache-Control"] == "no-store"


def test_a_file_whose_bytes_are_missing_is_a_404_that_says_so(app, client, logged_in, factory):
    note = factory.note(logged_in, title="Files")
    key = upload(client, note.id, png(), "lost.png", headers=JSON).get_json()["key"]
    for path in stored_files(app):
        path.unlink()
    response = client.get(f"/notes/files/{key}")
    assert response.status_code == 404
    assert "missing from storage" in response.get_data(as_text=True)
