"""Every page and API endpoint sends a fixed number of SQL statements,
however many notes and tags the user has (no N+1 queries).

Statements are counted with SQLAlchemy's ``before_cursor_execute`` event;
each request is made once with one note and one tag, and again after the
user has many more notes (more than a page) with several tags each. A count,
never a time: the timings are measured by `make bench` (docs/performance.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from tests.helpers.data import Factory
from tests.helpers.web import bearer

from app.models import Note, User, db
from app.notes.tags import assign_tags

MANY_NOTES = 45  # more than two pages of 20
TAGS_PER_NOTE = 5


@contextmanager
def counting() -> Iterator[list[str]]:
    """Collect the SQL statements sent to the database inside the block."""
    statements: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)


def _add_notes(owner: User, n: int, tags: int, *, title: str = "kiwi note") -> list[Note]:
    notes = []
    for i in range(n):
        note = Note(owner=owner, title=f"{title} {i}", content=f"kiwi banana text {i}")
        db.session.add(note)
        assign_tags(note, [f"tag{j}" for j in range(tags)])
        db.session.commit()  # each note sees the tags the previous one created
        notes.append(note)
    return notes


Request = Callable[[FlaskClient], Any]


def _requests(note_id: int, headers: dict[str, str]) -> dict[str, Request]:
    """Each endpoint as a call; the API ones with a token, the pages with the session."""
    api = "/api/v1"
    return {
        "api list": lambda c: c.get(f"{api}/notes?limit=20", headers=headers),
        "api list archived+trashed": lambda c: c.get(f"{api}/notes?trashed=true", headers=headers),
        "api list by tag": lambda c: c.get(f"{api}/notes?tag=tag0", headers=headers),
        "api search": lambda c: c.get(f"{api}/notes?q=kiwi", headers=headers),
        "api search fallback": lambda c: c.get(f"{api}/notes?q=ana", headers=headers),
        "api get": lambda c: c.get(f"{api}/notes/{note_id}", headers=headers),
        "api tags": lambda c: c.get(f"{api}/tags", headers=headers),
        "api tokens": lambda c: c.get(f"{api}/tokens", headers=headers),
        "api create": lambda c: c.post(f"{api}/notes", json={"title": "new", "tags": ["tag0", "x"]}, headers=headers),
        "html list": lambda c: c.get("/notes/"),
        "html archive": lambda c: c.get("/notes/archive"),
        "html trash": lambda c: c.get("/notes/trash"),
        "html search": lambda c: c.get("/notes/?q=kiwi"),
        "html list by tag": lambda c: c.get("/notes/?tag=tag0"),
        "html note": lambda c: c.get(f"/notes/{note_id}"),
        "html edit form": lambda c: c.get(f"/notes/{note_id}/edit"),
        "html tags": lambda c: c.get("/notes/tags"),
        "html account": lambda c: c.get("/account/"),
    }


def _count_all(client: FlaskClient, requests: dict[str, Request]) -> dict[str, int]:
    counts = {}
    for name, call in requests.items():
        call(client)  # warm: once-a-minute writes (token last use, session touch) happen here
        with counting() as statements:
            response = call(client)
        assert response.status_code < 400, (name, response.status_code, response.get_data(as_text=True)[:300])
        counts[name] = len(statements)
    return counts


@pytest.fixture
def seeded(client: FlaskClient, logged_in: User, factory: Factory) -> tuple[User, Note, dict[str, str]]:
    (note,) = _add_notes(logged_in, 1, 1)
    # One in the archive and one in the trash, so no view starts empty (an
    # empty page skips loading tags, which would look like growth later).
    (archived,) = _add_notes(logged_in, 1, 1, title="kiwi archived")
    (trashed,) = _add_notes(logged_in, 1, 1, title="kiwi trashed")
    archived.archived = True
    trashed.deleted_at = trashed.created_at
    db.session.commit()
    _, secret = factory.token(logged_in)
    return logged_in, note, bearer(secret)


def test_statement_counts_do_not_grow_with_notes_or_tags(client: FlaskClient, seeded: Any) -> None:
    user, note, headers = seeded
    requests = _requests(note.id, headers)
    few = _count_all(client, requests)
    _add_notes(user, MANY_NOTES, TAGS_PER_NOTE)
    # Some in the archive and the trash too, so those views have a full page.
    for extra in _add_notes(user, 25, TAGS_PER_NOTE, title="kiwi archived"):
        extra.archived = True
    for extra in _add_notes(user, 25, TAGS_PER_NOTE, title="kiwi trashed"):
        extra.deleted_at = extra.created_at
    db.session.commit()
    many = _count_all(client, requests)
    assert many == few


def test_second_page_costs_the_same_as_the_first(client: FlaskClient, seeded: Any) -> None:
    user, _, headers = seeded
    _add_notes(user, MANY_NOTES, TAGS_PER_NOTE)
    first = client.get("/api/v1/notes?limit=20", headers=headers)
    cursor = first.get_json()["next_cursor"]
    assert cursor
    with counting() as page1:
        client.get("/api/v1/notes?limit=20", headers=headers)
    with counting() as page2:
        response = client.get(f"/api/v1/notes?limit=20&cursor={cursor}", headers=headers)
    assert response.status_code == 200 and len(response.get_json()["items"]) == 20
    assert len(page2) == len(page1)


def test_the_api_list_is_one_statement_after_authentication(client: FlaskClient, seeded: Any) -> None:
    """The token lookup, the rate-limit count, then the page with its tags: three statements in all."""
    user, _, headers = seeded
    _add_notes(user, MANY_NOTES, TAGS_PER_NOTE)
    client.get("/api/v1/notes", headers=headers)
    with counting() as statements:
        response = client.get("/api/v1/notes", headers=headers)
    assert len(response.get_json()["items"]) == 20
    assert len(statements) == 3, statements
    assert "api_rate_windows" in statements[1], statements


@pytest.mark.parametrize("name", ["api list", "api search", "api get", "api tags", "api tokens", "api create"])
def test_token_calls_never_load_the_account(client: FlaskClient, seeded: Any, name: str) -> None:
    """The token row names its owner's id, which is all these endpoints need (app.api.auth.Caller)."""
    _, note, headers = seeded
    call = _requests(note.id, headers)[name]
    call(client)
    db.session.expunge_all()  # as in a server's request, where the session starts empty
    with counting() as statements:
        response = call(client)
    assert response.status_code < 400, response.get_data(as_text=True)[:300]
    assert not [s for s in statements if re.search(r"\busers\b", s)], statements


def test_reading_one_note_is_one_statement_after_authentication(client: FlaskClient, seeded: Any) -> None:
    """get_owned_note loads the note with its tags in one statement (no second load for the tags)."""
    _, note, headers = seeded
    note_id = note.id
    client.get(f"/api/v1/notes/{note_id}", headers=headers)
    db.session.expunge_all()  # as in a server's request, where the session starts empty
    with counting() as statements:
        response = client.get(f"/api/v1/notes/{note_id}", headers=headers)
    assert response.status_code == 200 and response.get_json()["tags"] == ["tag0"]
    assert len(statements) == 3, statements  # the token lookup and the rate-limit count first


def test_token_writes_never_load_the_account(client: FlaskClient, seeded: Any) -> None:
    """Changing a note's tags, trashing it and deleting it forever tidy tags by owner id alone."""
    _, note, headers = seeded
    url = f"/api/v1/notes/{note.id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    db.session.expunge_all()
    with counting() as statements:
        patched = client.patch(url, json={"tags": ["fresh"]}, headers={**headers, "If-Match": etag})
        trashed = client.delete(url, headers={**headers, "If-Match": patched.headers["ETag"]})
        purged = client.delete(f"/api/v1/trash/{note.id}", headers=headers)
    assert (patched.status_code, trashed.status_code, purged.status_code) == (200, 204, 204)
    assert not [s for s in statements if re.search(r"\busers\b", s)], statements


def test_an_export_costs_a_few_statements_per_batch_of_notes(
    client: FlaskClient, seeded: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, _, headers = seeded
    monkeypatch.setattr("app.notes.transfer.EXPORT_BATCH", 20)

    def export() -> int:
        client.get("/api/v1/export", headers=headers)  # warm: the token's once-a-minute write, the user reloaded
        with counting() as statements:
            response = client.get("/api/v1/export", headers=headers)
            assert response.status_code == 200
        return len(statements)

    few = export()  # 3 notes: one batch
    _add_notes(user, 17, TAGS_PER_NOTE)  # 20: still one batch, each with tags
    assert export() == few
    _add_notes(user, 20, TAGS_PER_NOTE)  # 40: two batches
    two = export()
    assert 0 < two - few <= 3  # the batch's notes, their tags and their history
