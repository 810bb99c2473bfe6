"""The API's hand-written note JSON (app/notes/serialize.py) equals what the
marshmallow schemas in the OpenAPI document would dump, for every kind of note."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from tests.helpers.images import png
from tests.helpers.web import bearer

from app.models import Note, User, db, utcnow
from app.notes.attachments import add_attachment
from app.notes.schemas import AttachmentSchema, NoteListItemSchema, NotePageSchema, NoteSchema
from app.notes.service import list_notes, search
from app.notes.tags import assign_tags

API = "/api/v1"


@pytest.fixture
def notes(user: User) -> list[Note]:
    """Notes in every state, with tags whose order depends on case and accents."""
    specs: list[dict[str, Any]] = [
        {"title": "plain", "content": ""},
        {"title": "pinned kiwi", "content": "kiwi ünïcode 🧀", "pinned": True},
        {"title": "archived kiwi", "content": "kiwi", "archived": True},
        {"title": "trashed kiwi", "content": "kiwi", "deleted_at": utcnow()},
    ]
    tag_sets = [[], ["Zeta", "alpha", "Äpfel"], ["b"], ["one", "Two", "three"]]
    made = []
    for spec, tags in zip(specs, tag_sets, strict=True):
        note = Note(owner=user, **spec)
        db.session.add(note)
        assign_tags(note, tags)
        db.session.commit()
        made.append(note)
    return made


@pytest.mark.parametrize(
    "query",
    ["", "?archived=true", "?trashed=true", "?pinned=true", "?tag=ALPHA", "?limit=1", "?archived=false&limit=2"],
)
def test_list_pages_equal_the_schema_dump(
    client: FlaskClient, headers: dict[str, str], notes: list[Note], query: str
) -> None:
    response = client.get(f"{API}/notes{query}", headers=headers)
    assert response.status_code == 200
    args = {"": {}, "?archived=true": {"archived": True}, "?trashed=true": {"archived": None, "trashed": True},
            "?pinned=true": {"pinned": True}, "?tag=ALPHA": {"tags": ["ALPHA"]}, "?limit=1": {"limit": 1},
            "?archived=false&limit=2": {"limit": 2}}[query]  # fmt: skip
    user = notes[0].owner
    page = list_notes(user, **args)
    expected = NotePageSchema().dump({"items": page.items, "next_cursor": page.next_cursor})
    assert response.get_json() == expected
    assert response.get_json()["items"], "the case must show at least one note"


def test_search_results_equal_the_schema_dump(client: FlaskClient, headers: dict[str, str], notes: list[Note]) -> None:
    response = client.get(f"{API}/notes?q=kiwi", headers=headers)
    hits = search(notes[0].owner, "kiwi", limit=20, archived=False, trashed=False)
    expected = [{**NoteListItemSchema().dump(hit.note), "snippet": str(hit.snippet)} for hit in hits]
    assert response.get_json() == {"items": expected, "next_cursor": None}
    assert expected


def test_read_create_and_update_equal_the_schema_dump(
    client: FlaskClient, headers: dict[str, str], notes: list[Note]
) -> None:
    for note in notes:
        assert client.get(f"{API}/notes/{note.id}", headers=headers).get_json() == NoteSchema().dump(note)
    created = client.post(f"{API}/notes", json={"title": "new", "tags": ["Y", "x"]}, headers=headers)
    assert created.status_code == 201
    assert created.get_json() == NoteSchema().dump(db.session.get(Note, created.get_json()["id"]))
    note = notes[1]
    patched = client.patch(
        f"{API}/notes/{note.id}",
        json={"title": "changed"},
        headers={**headers, "If-Match": f'"{note.id}-{note.version}"'},
    )
    assert patched.status_code == 200
    db.session.expire_all()
    assert patched.get_json() == NoteSchema().dump(db.session.get(Note, note.id))


def test_a_files_json_is_what_its_schema_would_dump(client: FlaskClient, factory) -> None:

    user = factory.user("files@example.com")
    _, secret = factory.token(user)
    note = factory.note(user, title="Files")
    attachment = add_attachment(note, "chart.png", png())
    served = client.get(f"{API}/notes/{note.id}/attachments/{attachment.key}", headers=bearer(secret)).get_json()
    from_schema = AttachmentSchema().dump({**served, "created_at": attachment.created_at})
    assert served == from_schema
