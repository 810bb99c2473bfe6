"""Files on notes through nginx: the app checks who may read one, nginx sends the bytes."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from tests.helpers.images import jpeg_with_location, location_of, png
from tests.helpers.stack import Account, Stack, log_entries

pytestmark = pytest.mark.stack

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _note(stack: Stack, account: Account, title: str) -> int:
    created = account.api().post(stack.url("/api/v1/notes"), json={"title": title, "content": ""}, timeout=10)
    assert created.status_code == 201, created.text[:300]
    return int(created.json()["id"])


def _upload(stack: Stack, account: Account, note_id: int, data: bytes, name: str) -> dict:
    response = account.api().post(
        stack.url(f"/api/v1/notes/{note_id}/attachments"), files={"file": (name, data)}, timeout=30
    )
    assert response.status_code == 201, response.text[:300]
    return dict(response.json())


def test_nginx_sends_the_file_the_app_names_with_the_apps_headers(stack: Stack, account: Account) -> None:
    note_id = _note(stack, account, "Photos")
    photo = _upload(stack, account, note_id, jpeg_with_location(width=64, height=48), "beach.jpg")
    response = account.api().get(stack.base + photo["content_url"], timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Disposition"].startswith('inline; filename="beach.jpg"')
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]  # the app's, for a file
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert response.headers["Cache-Control"] == "private, max-age=3600"
    assert "X-Accel-Redirect" not in response.headers  # nginx's instruction never reaches the client
    assert len(response.content) == photo["size"] and location_of(response.content) == {}
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.size == (64, 48)
    # The bytes came from nginx, not from a gunicorn worker: the app's own
    # answer (web's access line) had an empty body.
    lines = [e for e in log_entries(stack.logs("web")) if str(e.get("path", "")).endswith(f"{photo['key']}/content")]
    assert lines, "no access line for the download in web's log"
    assert all(not e.get("bytes") for e in lines), lines


def test_an_svg_downloads_and_the_internal_location_is_closed(stack: Stack, account: Account) -> None:
    note_id = _note(stack, account, "Drawings")
    svg = _upload(stack, account, note_id, SVG, "logo.svg")
    response = account.api().get(stack.base + svg["content_url"], timeout=10)
    assert response.status_code == 200 and response.content == SVG
    assert response.headers["Content-Disposition"].startswith('attachment; filename="logo.svg"')
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    key = svg["key"]
    assert stack.session().get(stack.url(f"/_attachments/{key[:2]}/{key}"), timeout=10).status_code == 404
    # Another user's token gets a 404 from the app: nginx never looks at the file.
    other = Account(stack, "someone-else@example.com")
    assert other.register().status_code == 302
    other.create_token()
    assert other.api().get(stack.base + svg["content_url"], timeout=10).status_code == 404


def test_a_shared_notes_image_reaches_a_visitor_through_nginx(stack: Stack, account: Account) -> None:
    note_id = _note(stack, account, "Map")
    image = _upload(stack, account, note_id, png(20, 10), "map.png")
    shared = account.api().post(stack.url(f"/api/v1/notes/{note_id}/shares"), json={}, timeout=10)
    assert shared.status_code == 201, shared.text[:300]
    link = shared.json()["url"]
    visitor = stack.session()
    response = visitor.get(f"{link}/files/{image['key']}", timeout=10)
    assert response.status_code == 200 and response.content == png(20, 10)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert "Set-Cookie" not in response.headers


def test_uploads_over_the_files_limit_are_refused_by_nginx_and_the_app(stack: Stack, account: Account) -> None:
    note_id = _note(stack, account, "Big")
    url = stack.url(f"/api/v1/notes/{note_id}/attachments")
    too_big = account.api().post(url, files={"file": ("big.bin", b"x" * (12 * 1024 * 1024))}, timeout=60)
    assert too_big.status_code == 413 and "10 MiB for a file" in too_big.text
    just_over = account.api().post(url, files={"file": ("over.bin", b"x" * (10 * 1024 * 1024 + 1))}, timeout=60)
    assert just_over.status_code == 413
    assert "larger than 10 MiB" in just_over.json()["detail"]
    listed = account.api().get(url, timeout=10).json()
    assert listed["items"] == []
    assert _upload(stack, account, note_id, png(), "small.png")["content_type"] == "image/png"
