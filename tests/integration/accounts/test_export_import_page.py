"""Export and import from the account page, and the trash purge command."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import sqlalchemy as sa
from tests.helpers.data import PASSWORD, Factory, export_archive, exported_note, keep_takeout_zip
from tests.helpers.web import csrf_token_from

from app.models import Note, Tag, db, utcnow


def test_export_downloads_a_zip_of_every_note(client, logged_in, factory):
    factory.note(logged_in, title="One")
    factory.note(logged_in, title="Two", deleted_at=utcnow())
    response = client.get("/account/export")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment")
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert len([n for n in names if n.endswith(".md")]) == 2


def test_export_delete_account_register_import_gets_everything_back(app, client, auth, factory, user):
    factory.note(user, title="Keep me", content="**bold** 🌸")
    auth.login()
    archive = client.get("/account/export").data
    client.post("/account/delete", data={"password": PASSWORD})
    auth.register("alice@example.com", "a brand new passphrase")
    response = client.post(
        "/account/import",
        data={"archive": (io.BytesIO(archive), "notes-export.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    (note,) = db.session.scalars(sa.select(Note)).all()
    assert (note.title, note.content) == ("Keep me", "**bold** 🌸")
    assert "Imported 1 note from a Notes export." in client.get("/notes/").get_data(as_text=True)


def test_importing_something_else_says_why_and_imports_nothing(client, logged_in):
    response = client.post(
        "/account/import", data={"archive": (io.BytesIO(b"not a zip"), "x.zip")}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert "Notes cannot read this file. Upload a Notes export (.zip)" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0


def test_importing_without_a_file_says_so(client, logged_in):
    response = client.post("/account/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose the file to import" in response.get_data(as_text=True)


def test_purge_trash_deletes_only_what_is_old_enough(app, factory, user):
    old = factory.note(user, title="old", deleted_at=utcnow() - timedelta(days=31))
    factory.note(user, title="recent", deleted_at=utcnow() - timedelta(days=29))
    factory.note(user, title="live")
    from app.notes.tags import assign_tags

    assign_tags(old, ["only-on-old"])
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["notes", "purge-trash"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 note trashed more than 30 days ago." in result.output
    assert sorted(db.session.scalars(sa.select(Note.title))) == ["live", "recent"]
    assert db.session.scalars(sa.select(Tag.name)).all() == []


def test_purge_trash_days_are_configurable(app, factory, user):
    factory.note(user, title="a day old", deleted_at=utcnow() - timedelta(days=1, minutes=1))
    result = app.test_cli_runner().invoke(args=["notes", "purge-trash", "--days", "1"])
    assert "Deleted 1 note" in result.output
    app.config["TRASH_RETENTION_DAYS"] = 0
    factory.note(user, title="just trashed", deleted_at=utcnow() - timedelta(seconds=5))
    assert "Deleted 1 note" in app.test_cli_runner().invoke(args=["notes", "purge-trash"]).output


def test_purge_trash_refuses_negative_days(app):
    result = app.test_cli_runner().invoke(args=["notes", "purge-trash", "--days", "-1"])
    assert result.exit_code != 0
    assert "-1" in result.output


def test_the_import_form_takes_an_export_over_one_mib_with_csrf_on(csrf_app):
    """CSRF protection reads the form before the view runs; the import's larger limit must already apply."""
    factory = Factory()
    factory.user("alice@example.com")
    client = csrf_app.test_client()
    token = csrf_token_from(client, "/auth/login")
    client.post("/auth/login", data={"email": "alice@example.com", "password": PASSWORD, "csrf_token": token})
    data = export_archive(
        [exported_note(title="Big", content="x" * 90_000)], padding=2 * csrf_app.config["MAX_CONTENT_LENGTH"]
    )
    assert len(data) > csrf_app.config["MAX_CONTENT_LENGTH"]
    response = client.post(
        "/account/import",
        data={"archive": (io.BytesIO(data), "notes-export.zip"), "csrf_token": csrf_token_from(client, "/account/")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert [n.title for n in db.session.scalars(sa.select(Note))] == ["Big"]


def test_other_forms_still_stop_at_the_usual_limit_with_csrf_on(csrf_app):
    client = csrf_app.test_client()
    big = "x" * (csrf_app.config["MAX_CONTENT_LENGTH"] + 10)
    response = client.post("/auth/login", data={"email": "a@example.com", "password": big})
    assert response.status_code == 413


def test_the_export_page_is_limited_too_with_a_429_page(app, client, logged_in):
    app.config["EXPORTS_PER_WINDOW"] = 1
    assert client.get("/account/export").status_code == 200
    response = client.get("/account/export")
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert "limit on exports: 1 in" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0


def test_an_anonymous_upload_to_the_import_form_stops_at_the_usual_limit(csrf_app):
    """Only a caller who can be let in may send the import's larger body: no parsing 20 MiB for strangers."""
    client = csrf_app.test_client()
    for headers in ({}, {"Authorization": "Bearer made-up"}):  # a header alone lets nobody into a page
        big = io.BytesIO(b"p" * (2 * csrf_app.config["MAX_CONTENT_LENGTH"]))
        response = client.post(
            "/account/import", data={"archive": (big, "x.zip")}, content_type="multipart/form-data", headers=headers
        )
        assert response.status_code == 413


def test_importing_a_keep_takeout_says_what_came_over_and_what_was_left_out(client, logged_in):
    response = client.post(
        "/account/import",
        data={"archive": (io.BytesIO(keep_takeout_zip()), "takeout.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get("/notes/").get_data(as_text=True)
    assert "Imported 1 note from Google Keep." in page
    assert "Left out: Old.json: in Keep&#39;s trash; 1 other Takeout file (HTML copies, media, labels)." in page
    note = db.session.scalars(sa.select(Note)).one()
    assert (note.title, note.content, note.pinned, [t.name for t in note.tags]) == (
        "Groceries",
        "- [ ] milk",
        True,
        ["home"],
    )
