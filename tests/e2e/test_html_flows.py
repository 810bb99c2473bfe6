"""Tier 2's main page flows again, on PostgreSQL: what a person does in a browser."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tests.helpers.data import PASSWORD, Factory
from tests.helpers.e2e import count, login, stored_note, text
from tests.helpers.web import AuthActions

from app.models import Note, User

pytestmark = pytest.mark.e2e


def _note_id(response) -> int:  # type: ignore[no-untyped-def]
    """The id in the /notes/<id> a create redirects to."""
    assert response.status_code == 302, text(response)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_register_log_out_and_log_in_again(app, client: FlaskClient, auth: AuthActions) -> None:
    registered = auth.register("Dora@Example.com")
    assert registered.status_code == 302
    assert registered.headers["Location"].endswith("/notes/")
    assert count(User, User.email == "dora@example.com") == 1  # stored lower-cased
    assert client.get("/notes/").status_code == 200

    assert auth.logout().status_code == 302
    assert client.get("/notes/").status_code == 302  # back to the login page

    assert auth.login("dora@example.com", "wrong password!").status_code == 401
    assert auth.login("DORA@example.com").status_code == 302  # any case logs in
    assert client.get("/notes/").status_code == 200


def test_registering_an_email_twice_in_another_case_is_refused(app, client: FlaskClient, auth: AuthActions) -> None:
    assert auth.register("erin@example.com").status_code == 302
    auth.logout()
    again = auth.register("ERIN@example.com")
    assert again.status_code == 400
    assert "already exists" in text(again)
    assert count(User) == 1


def test_write_read_and_edit_a_note(app, client: FlaskClient, logged_in: User) -> None:
    note_id = _note_id(client.post("/notes/", data={"title": "  Shopping  ", "content": "- **milk**"}))

    page = client.get(f"/notes/{note_id}")
    assert page.status_code == 200
    assert "<strong>milk</strong>" in text(page)
    note = stored_note(note_id)
    assert note is not None and note.title == "Shopping" and note.owner_id == logged_in.id and note.version == 1

    form = client.get(f"/notes/{note_id}/edit")
    assert form.status_code == 200 and 'value="1"' in text(form)  # the hidden version
    saved = client.post(f"/notes/{note_id}/edit", data={"title": "Shopping", "content": "- eggs", "version": "1"})
    assert saved.status_code == 302
    note = stored_note(note_id)
    assert note is not None and note.content == "- eggs" and note.version == 2


def test_saving_over_a_newer_version_is_a_409_that_keeps_both_texts(
    app, client: FlaskClient, logged_in: User, factory: Factory
) -> None:
    note = factory.note(logged_in, title="Plan", content="theirs")
    client.post(f"/notes/{note.id}/edit", data={"title": "Plan", "content": "newer", "version": "1"})

    stale = client.post(f"/notes/{note.id}/edit", data={"title": "Plan", "content": "mine", "version": "1"})

    assert stale.status_code == 409
    assert "changed somewhere else" in text(stale)
    assert "mine" in text(stale) and "newer" in text(stale)
    stored = stored_note(note.id)
    assert stored is not None and stored.content == "newer" and stored.version == 2


def test_a_blank_title_writes_nothing(app, client: FlaskClient, logged_in: User) -> None:
    response = client.post("/notes/", data={"title": "   ", "content": "orphan"})
    assert response.status_code == 400
    assert "Give the note a title." in text(response)
    assert count(Note) == 0


def test_pin_archive_trash_restore_and_purge(app, client: FlaskClient, logged_in: User, factory: Factory) -> None:
    note_id = factory.note(logged_in, title="Lifecycle").id
    other_id = factory.note(logged_in, title="Bystander").id

    def titles(path: str) -> list[str]:
        page = text(client.get(path))
        return [t for t in ("Lifecycle", "Bystander") if f">{t}</a>" in page]

    assert client.post(f"/notes/{note_id}/pin").status_code == 302
    assert stored_note(note_id).pinned is True  # type: ignore[union-attr]
    page = text(client.get("/notes/"))
    assert page.index(">Lifecycle</a>") < page.index(">Bystander</a>")  # pinned first

    assert client.post(f"/notes/{note_id}/archive").status_code == 302
    assert titles("/notes/") == ["Bystander"]
    assert titles("/notes/archive") == ["Lifecycle"]
    assert client.post(f"/notes/{note_id}/archive").status_code == 302  # and back
    assert titles("/notes/archive") == []

    assert client.post(f"/notes/{note_id}/delete").status_code == 302
    assert stored_note(note_id).deleted_at is not None  # type: ignore[union-attr]
    assert titles("/notes/") == ["Bystander"]
    assert titles("/notes/trash") == ["Lifecycle"]
    assert client.get(f"/notes/{note_id}/edit").status_code == 404  # no editing in the trash

    assert client.post(f"/notes/{note_id}/restore").status_code == 302
    assert stored_note(note_id).deleted_at is None  # type: ignore[union-attr]
    assert client.post(f"/notes/{note_id}/purge").status_code == 404  # only from the trash

    client.post(f"/notes/{note_id}/delete")
    assert client.post(f"/notes/{note_id}/purge").status_code == 302
    assert stored_note(note_id) is None
    assert stored_note(other_id) is not None
    assert client.get(f"/notes/{note_id}").status_code == 404


def test_another_users_note_is_a_404_on_every_page(app: Flask, factory: Factory) -> None:
    alice, bob = factory.user("alice@example.com"), factory.user("bob@example.com")
    note = factory.note(alice, title="Private", content="secret")
    factory.note(bob, title="Bob's own")
    mallory = app.test_client()
    login(mallory, bob.email)

    assert mallory.get(f"/notes/{note.id}").status_code == 404
    assert mallory.get(f"/notes/{note.id}/edit").status_code == 404
    edit = {"title": "Owned", "content": "by bob", "version": "1"}
    assert mallory.post(f"/notes/{note.id}/edit", data=edit).status_code == 404
    for action in ("pin", "archive", "delete", "restore", "purge"):
        assert mallory.post(f"/notes/{note.id}/{action}").status_code == 404, action
    assert "Private" not in text(mallory.get("/notes/"))

    stored = stored_note(note.id)
    assert stored is not None
    assert (stored.title, stored.content, stored.pinned, stored.archived, stored.deleted_at, stored.version) == (
        "Private",
        "secret",
        False,
        False,
        None,
        1,
    )
    # Alice, in her own client, still sees it.
    owner = app.test_client()
    login(owner, alice.email, PASSWORD)
    assert owner.get(f"/notes/{note.id}").status_code == 200
