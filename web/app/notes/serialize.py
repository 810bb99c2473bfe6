"""A note as JSON, one function for the API and the export.

Written by hand rather than by marshmallow on the API's hot paths (list, read,
create, update): ``NoteSchema.dump`` of a page of notes was a large share of a
list request (docs/performance.md, "What was tuned"). The schemas in ``schemas.py`` still describe these dicts in the
OpenAPI document, and tests/integration/notes/test_serialize.py checks that
both give equal output for every kind of note, so the document and the bytes
cannot drift apart unseen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from .models import Attachment, Note, NoteRevision

# What an export keeps of each note, in this order (notes.json and front matter).
EXPORT_FIELDS = ("title", "content", "tags", "pinned", "archived", "created_at", "updated_at", "deleted_at")


class NoteFields(Protocol):
    """A note as stored: a ``Note``, or a row of ``service.list_note_rows`` (no ORM object)."""

    id: int
    title: str
    content: str
    pinned: bool
    archived: bool
    deleted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


def _iso(value: datetime | None) -> str | None:
    # What marshmallow's AwareDateTime dumps: ISO 8601 with the UTC offset.
    return value.isoformat() if value is not None else None


def note_json(note: NoteFields, tags: list[str], snippet: str | None = None) -> dict[str, Any]:
    """``note`` with its ``tags`` (names) as NoteSchema dumps it; with ``snippet``, as NoteListItemSchema does."""
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
        "tags": tags,
    }
    if snippet is not None:
        out["snippet"] = snippet
    return out


def note_dict(note: Note, snippet: str | None = None) -> dict[str, Any]:
    """``note_json`` of a ``Note`` object."""
    return note_json(note, [tag.name for tag in note.tags], snippet)


def note_row_dict(row: Any) -> dict[str, Any]:
    """``note_json`` of a ``list_note_rows`` row, whose tags are one comma-joined ``tag_names``."""
    return note_json(row, row.tag_names.split(",") if row.tag_names else [])


def export_record(note: Note) -> dict[str, Any]:
    """What an export holds of ``note``: ``note_json`` without the id, version and trashed flag."""
    full = note_dict(note)
    return {field: full[field] for field in EXPORT_FIELDS}


def revision_record(revision: NoteRevision) -> dict[str, Any]:
    """What an export holds of one of a note's revisions (notes.json only): its text and when."""
    return {
        "note_version": revision.note_version,
        "saved_at": _iso(revision.saved_at),
        "title": revision.title,
        "content": revision.content,
        "tags": revision.tag_names,
        "created_at": _iso(revision.created_at),
        "last_save_at": _iso(revision.last_save_at),
    }


def attachment_dict(attachment: Attachment, markdown: str, content_url: str) -> dict[str, Any]:
    """A file on a note as JSON, for the API and the editor's script; ``content_url`` is where
    the caller's way in serves its bytes, ``markdown`` what to write in the note to show it."""
    return {
        "key": attachment.key,
        "note_id": attachment.note_id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "created_at": _iso(attachment.created_at),
        "markdown": markdown,
        "content_url": content_url,
    }
