"""The API's tags, search (q=), export and import."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile

import pytest
import sqlalchemy as sa
from tests.helpers.api import API, assert_problem
from tests.helpers.data import export_archive

from app.models import Note, Tag, db


def _create(client, headers, **body):  # type: ignore[no-untyped-def]
    response = client.post(f"{API}/notes", json={"title": "t", **body}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def test_create_with_tags_and_read_them_back(client, headers):
    note = _create(client, headers, tags=["Home", "errands", "home"])
    assert note["tags"] == ["errands", "Home"]
    assert note["version"] == 1
    assert client.get(f"{API}/notes/{note['id']}", headers=headers).json["tags"] == ["errands", "Home"]


def test_patch_replaces_tags_and_bumps_the_etag(client, headers):
    note = _create(client, headers, tags=["a", "b"])
    etag = client.get(f"{API}/notes/{note['id']}", headers=headers).headers["ETag"]
    response = client.patch(f"{API}/notes/{note['id']}", json={"tags": ["c"]}, headers={**headers, "If-Match": etag})
    assert response.status_code == 200
    assert response.json["tags"] == ["c"]
    assert response.headers["ETag"] != etag
    # a and b no longer tag anything, so they are gone
    assert client.get(f"{API}/tags", headers=headers).json == {"items": [{"name": "c", "count": 1}]}


def test_bad_tags_are_422_with_the_reason_and_nothing_is_stored(client, headers):
    for tags, reason in [(["a,b"], "commas"), ([" "], None), (["x" * 51], None), ([f"t{n}" for n in range(21)], None)]:
        response = client.post(f"{API}/notes", json={"title": "t", "tags": tags}, headers=headers)
        body = assert_problem(response, 422)
        assert "tags" in body["errors"]
        if reason:
            assert reason in json.dumps(body["errors"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Tag)) == 0


def test_filter_by_tags(client, headers):
    both = _create(client, headers, title="both", tags=["a", "b"])
    _create(client, headers, title="a only", tags=["a"])
    response = client.get(f"{API}/notes?tag=A&tag=b", headers=headers)
    assert [n["id"] for n in response.json["items"]] == [both["id"]]


def test_tag_counts_and_rename_and_merge(client, headers):
    _create(client, headers, tags=["recipes"])
    _create(client, headers, tags=["Cooking"])
    response = client.post(f"{API}/tags/rename", json={"name": "recipes", "new_name": "cooking"}, headers=headers)
    assert response.status_code == 200
    assert response.json == {"name": "Cooking", "count": 2}
    assert client.get(f"{API}/tags", headers=headers).json == {"items": [{"name": "Cooking", "count": 2}]}


def test_renaming_a_missing_tag_is_404(client, headers):
    assert_problem(client.post(f"{API}/tags/rename", json={"name": "nope", "new_name": "x"}, headers=headers), 404)


def test_search_is_ranked_with_snippets(client, headers):
    _create(client, headers, title="Bread recipe", content="flour, water, salt")
    _create(client, headers, title="Shopping", content="buy <b>bread</b> and milk")
    response = client.get(f"{API}/notes?q=bread", headers=headers)
    assert response.status_code == 200
    items = response.json["items"]
    assert [n["title"] for n in items] == ["Bread recipe", "Shopping"]
    assert "<mark>bread</mark>" in items[1]["snippet"].lower()
    assert "<b>" not in items[1]["snippet"]
    assert response.json["next_cursor"] is None


def test_search_combines_with_filters(client, headers):
    _create(client, headers, title="live", content="kiwi", tags=["fruit"])
    _create(client, headers, title="archived", content="kiwi", tags=["fruit"], archived=True)
    _create(client, headers, title="untagged", content="kiwi")
    response = client.get(f"{API}/notes?q=kiwi&tag=fruit", headers=headers)
    assert [n["title"] for n in response.json["items"]] == ["live"]


def test_search_with_a_cursor_is_400(client, headers):
    assert_problem(client.get(f"{API}/notes?q=x&cursor=abc", headers=headers), 400)


def test_search_never_reaches_another_users_notes(client, headers, factory):
    bob = factory.user("bob@example.com")
    factory.note(bob, title="secret", content="treasure")
    assert client.get(f"{API}/notes?q=treasure", headers=headers).json["items"] == []


def test_export_then_import_round_trip(client, headers, factory):
    _create(client, headers, title="Ein Tag", content="Käse 🧀", tags=["food"], pinned=True)
    export = client.get(f"{API}/export", headers=headers)
    assert export.status_code == 200
    assert export.mimetype == "application/zip"
    assert "attachment" in export.headers["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(export.data)).namelist()
    assert "notes.json" in names and any(n.endswith(".md") for n in names)

    _, bob_secret = factory.token(factory.user("bob@example.com"))
    bob = {"Authorization": f"Bearer {bob_secret}"}
    response = client.post(f"{API}/import", data=export.data, content_type="application/zip", headers=bob)
    assert response.status_code == 201
    assert response.json == {"imported": 1, "source": "a Notes export", "skipped": []}
    (note,) = client.get(f"{API}/notes", headers=bob).json["items"]
    assert (note["title"], note["content"], note["tags"], note["pinned"]) == ("Ein Tag", "Käse 🧀", ["food"], True)
    assert client.get(f"{API}/export", headers=bob).data == export.data


def test_import_of_garbage_is_422_and_imports_nothing(client, headers):
    body = assert_problem(
        client.post(f"{API}/import", data=b"PK\x03\x04junk", content_type="application/zip", headers=headers), 422
    )
    assert "zip" in body["detail"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0


def test_import_needs_a_content_type_it_reads(client, headers):
    """A zip, memos' JSON or Evernote's XML; anything else is a 415 before the body is read."""
    assert_problem(client.post(f"{API}/import", data=b"x", content_type="text/plain", headers=headers), 415)
    assert_problem(client.post(f"{API}/import", data=b"x", content_type="application/pdf", headers=headers), 415)


def test_import_from_memos_and_evernote_through_the_api(client, headers):
    memos = b'{"memos": [{"content": "From memos\\nbody #work", "createTime": "2024-01-01T00:00:00Z"}]}'
    response = client.post(f"{API}/import", data=memos, content_type="application/json", headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json == {"imported": 1, "source": "memos", "skipped": []}
    enex = (
        b"<en-export><note><title>From Evernote</title>"
        b"<content>&lt;en-note&gt;hi&lt;/en-note&gt;</content></note></en-export>"
    )
    response = client.post(f"{API}/import", data=enex, content_type="application/xml", headers=headers)
    assert response.json == {"imported": 1, "source": "Evernote", "skipped": []}
    titles = sorted(n["title"] for n in client.get(f"{API}/notes", headers=headers).json["items"])
    assert titles == ["From Evernote", "From memos"]


def test_import_over_the_size_limit_is_413(client, headers, app):
    app.config["IMPORT_MAX_BYTES"] = 1000
    app.config["ATTACHMENT_QUOTA_BYTES"] = 0
    assert_problem(client.post(f"{API}/import", data=b"x" * 2000, content_type="application/zip", headers=headers), 413)


def test_import_may_be_larger_than_other_requests(client, headers, app):
    """A notebook is larger than MAX_CONTENT_LENGTH; only /import takes more."""
    big = {"format": "notes-export", "version": 1, "notes": []}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("notes.json", json.dumps(big))
        archive.writestr("notes/padding.md", "x" * (app.config["MAX_CONTENT_LENGTH"] + 1000))
    response = client.post(f"{API}/import", data=buffer.getvalue(), content_type="application/zip", headers=headers)
    assert response.status_code == 201
    assert_problem(
        client.post(
            f"{API}/notes",
            data=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1000),
            content_type="application/json",
            headers=headers,
        ),
        413,
    )


def test_a_read_only_token_cannot_import(client, factory, user):
    _, secret = factory.token(user, scope="read")
    response = client.post(
        f"{API}/import", data=b"x", content_type="application/zip", headers={"Authorization": f"Bearer {secret}"}
    )
    assert_problem(response, 403)


def test_imports_per_user_are_limited_with_429_and_retry_after(app, client, headers, factory):
    app.config["IMPORTS_PER_WINDOW"] = 2
    archive = export_archive([])
    for _ in range(2):
        assert (
            client.post(f"{API}/import", data=archive, content_type="application/zip", headers=headers).status_code
            == 201
        )
    response = client.post(f"{API}/import", data=archive, content_type="application/zip", headers=headers)
    body = assert_problem(response, 429)
    assert "limit on imports: 2 in" in body["detail"]
    assert int(response.headers["Retry-After"]) > 0
    # Another user is not affected.
    _, other = factory.token(factory.user("bob@example.com"))
    bob = {"Authorization": f"Bearer {other}"}
    assert client.post(f"{API}/import", data=archive, content_type="application/zip", headers=bob).status_code == 201


def test_a_refused_import_counts_too(app, client, headers):
    app.config["IMPORTS_PER_WINDOW"] = 1
    assert_problem(
        client.post(f"{API}/import", data=b"not a zip", content_type="application/zip", headers=headers), 422
    )
    response = client.post(f"{API}/import", data=export_archive([]), content_type="application/zip", headers=headers)
    assert_problem(response, 429)


def test_exports_per_user_are_limited_with_429_and_retry_after(app, client, headers):
    app.config["EXPORTS_PER_WINDOW"] = 1
    assert client.get(f"{API}/export", headers=headers).status_code == 200
    response = client.get(f"{API}/export", headers=headers)
    assert "limit on exports: 1 in" in assert_problem(response, 429)["detail"]
    assert int(response.headers["Retry-After"]) > 0


@pytest.fixture
def temporary_files(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """The temporary files the export makes, kept track of, in a directory of their own."""
    made: list = []
    real = tempfile.TemporaryFile

    def tracked(*args, **kwargs):  # type: ignore[no-untyped-def]
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr("app.notes.transfer.tempfile.TemporaryFile", tracked)
    return made, tmp_path


@pytest.mark.parametrize("path", [f"{API}/export", "/account/export"])
def test_the_export_is_sent_from_a_temporary_file_that_is_gone_after_the_response(
    client, headers, logged_in, temporary_files, path
):
    made, directory = temporary_files
    _create(client, headers, title="Ein Tag", content="Käse 🧀")
    response = client.get(path, headers=headers if path.startswith(API) else {}, buffered=False)
    assert response.status_code == 200
    assert response.is_streamed  # a file handed to the server (sendfile), not bytes built in memory
    archive = made[0]
    assert not archive.closed
    body = response.get_data()
    assert int(response.headers["Content-Length"]) == len(body)
    assert response.headers["Content-Disposition"] == 'attachment; filename="notes-export.zip"'
    assert zipfile.ZipFile(io.BytesIO(body)).namelist()[-1] == "notes.json"
    response.close()
    assert all(f.closed for f in made)  # the zip, and notes.json's scratch file
    assert list(directory.iterdir()) == []


def test_a_refused_export_makes_no_file(app, client, headers, temporary_files):
    made, _ = temporary_files
    app.config["EXPORTS_PER_WINDOW"] = 1
    client.get(f"{API}/export", headers=headers).close()
    before = len(made)
    assert_problem(client.get(f"{API}/export", headers=headers), 429)
    assert len(made) == before
