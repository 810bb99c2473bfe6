"""Hand-written JSON for notes on the API's hot paths (list, read, create, update).

marshmallow's ``NoteSchema.dump`` costs about a millisecond for a page of 20
notes, a large share of a list request (measured in docs/performance.md).
These functions build the very same dicts directly; the schemas in
``schemas.py`` still describe them in the OpenAPI document, and
tests/integration/api/test_serialize.py checks both give equal output for
every kind of note, so the document and the bytes cannot drift apart unseen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, jsonify

from ..models import Note


def _iso(value: datetime | None) -> str | None:
    # What marshmallow's AwareDateTime dumps: ISO 8601 with the UTC offset.
    return value.isoformat() if value is not None else None


def note_dict(note: Note, snippet: str | None = None) -> dict[str, Any]:
    """``note`` as NoteSchema dumps it; with ``snippet``, as NoteListItemSchema does."""
    out: dict[str, Any] = {
        "id": note.id,
        "title": note.title,
        "content": note.content,
        "pinned": note.pinned,
        "archived": note.archived,
        "trashed": note.deleted_at is not None,
        "deleted_at": _iso(note.deleted_at),
        "created_at": _iso(note.created_at),
        "updated_at": _iso(note.updated_at),
        "version": note.version,
        "tags": [tag.name for tag in note.tags],
    }
    if snippet is not None:
        out["snippet"] = snippet
    return out


def note_row_dict(row: Any) -> dict[str, Any]:
    """A row of notes.service.list_note_rows as NoteSchema dumps the note."""
    return {
        "id": row.id,
        "title": row.title,
        "content": row.content,
        "pinned": row.pinned,
        "archived": row.archived,
        "trashed": row.deleted_at is not None,
        "deleted_at": _iso(row.deleted_at),
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "version": row.version,
        "tags": row.tag_names.split(",") if row.tag_names else [],
    }


def note_response(note: Note) -> Response:
    """A JSON response with ``note`` (status and headers are set by the view's return tuple)."""
    return jsonify(note_dict(note))


def page_response(items: list[dict[str, Any]], next_cursor: str | None) -> Response:
    """A JSON response shaped as NotePageSchema."""
    return jsonify({"items": items, "next_cursor": next_cursor})
