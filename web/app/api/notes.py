"""/api/v1/notes: list, create, read, update, trash, restore, delete forever."""

from __future__ import annotations

from typing import Any

from flask import abort, request, url_for
from flask.views import MethodView
from marshmallow import RAISE

from ..models import Note
from ..notes.service import (
    EditConflict,
    create_note,
    get_owned_note,
    list_note_rows,
    purge_note,
    restore_note,
    search,
    trash_note,
    update_note,
)
from ..notes.tags import clean_tag_list
from ..pagination import CursorError
from . import bp
from .auth import api_owner
from .docs import NOTE_LINKS, problem_response
from .schemas import NoteCreateSchema, NoteListArgs, NotePageSchema, NoteSchema, NoteUpdateSchema
from .serialize import note_dict, note_response, note_row_dict, page_response

STALE = (
    "The note changed since you read it: your If-Match is stale. "
    "GET it again, reapply your change and retry with the new ETag."
)

ETAG_HEADER = {"ETag": {"schema": {"type": "string"}, "description": "The note's version, for If-Match"}}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "The ETag of your last read; a stale one gets 412 and changes nothing",
}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "An ETag you hold; if it is current the answer is 304 without a body",
}
NO_NOTE = "No such note of yours"
NO_LIVE_NOTE = "No such note of yours outside the trash"


def etag_of(note: Note) -> str:
    return f"{note.id}-{note.version}"


def _etag_header(note: Note) -> dict[str, str]:
    return {"ETag": f'"{etag_of(note)}"'}


def expected_version(note: Note, *, required: bool) -> int | None:
    """The note version the client's If-Match vouches for.

    None when there is no If-Match (and ``required`` is False) or it is ``*``.
    Aborts 428 when required and missing, 412 when it names another version.
    """
    if not request.if_match:
        if required:
            abort(
                428,
                "Send 'If-Match' with the ETag from your last GET of this note, so edits cannot overwrite each other.",
            )
        return None
    if request.if_match.star_tag:
        return None
    if request.if_match.contains(etag_of(note)):
        return note.version
    abort(412, STALE)


@bp.route("/notes")
class NoteCollection(MethodView):
    # webargs ignores unknown query args by default; a typo such as ?pinend=true
    # must fail loudly rather than silently list everything. An instance, not
    # the class: webargs would build a new schema for every request (~0.1 ms).
    @bp.arguments(NoteListArgs(), location="query", unknown=RAISE)
    @bp.response(200, NotePageSchema)
    @problem_response(400, "The cursor was not made by this API (pass next_cursor unchanged)")
    def get(self, args: dict[str, Any]) -> Any:
        """List notes, pinned first then most recently updated, or search them.

        Live notes by default; filter with archived, trashed, pinned and tag.
        Follow next_cursor for more. With q, the best matches come ranked.
        """
        filters = {
            "archived": args.get("archived", None if args["trashed"] else False),
            "trashed": args["trashed"],
            "pinned": args.get("pinned"),
            "tags": args.get("tag"),
        }
        if args.get("q") is not None:
            if args.get("cursor"):
                abort(400, "Search results come on one page: drop cursor, or raise limit (up to 100).")
            hits = search(api_owner(), args["q"], limit=args["limit"], **filters)
            return page_response([note_dict(hit.note, str(hit.snippet)) for hit in hits], None)
        try:
            page = list_note_rows(api_owner(), cursor=args.get("cursor"), limit=args["limit"], **filters)
        except CursorError:
            abort(400, "The cursor is not valid; pass the next_cursor value of the previous page unchanged.")
        # Built by hand rather than by NotePageSchema: see api/serialize.py.
        return page_response([note_row_dict(row) for row in page.items], page.next_cursor)

    @bp.arguments(NoteCreateSchema)
    @bp.response(
        201, NoteSchema, headers={"Location": {"schema": {"type": "string"}}, "ETag": {"schema": {"type": "string"}}}
    )
    @bp.doc(responses={201: {"links": NOTE_LINKS}})
    def post(self, data: dict[str, Any]) -> Any:
        """Create a note."""
        note = create_note(
            api_owner(),
            data["title"],
            data["content"],
            pinned=data["pinned"],
            archived=data["archived"],
            tags=clean_tag_list(data["tags"]),
        )
        headers = {"Location": url_for("api.NoteItem", note_id=note.id, _external=True), **_etag_header(note)}
        return note_response(note), 201, headers


@bp.route("/notes/<int:note_id>")
class NoteItem(MethodView):
    @bp.response(200, NoteSchema, headers=ETAG_HEADER)
    @bp.alt_response(304, description="Not modified: If-None-Match matches the current ETag", headers=ETAG_HEADER)
    @problem_response(404, NO_NOTE)
    @bp.doc(parameters=[IF_NONE_MATCH])
    def get(self, note_id: int) -> Any:
        """Read a note (also one in the trash). Sends an ETag for If-Match."""
        note = get_owned_note(note_id, api_owner())
        if request.if_none_match.contains(etag_of(note)):
            return "", 304, _etag_header(note)
        return note_response(note), 200, _etag_header(note)

    @bp.arguments(NoteUpdateSchema)
    @bp.response(200, NoteSchema, headers=ETAG_HEADER)
    @problem_response(404, NO_LIVE_NOTE)
    @problem_response(412, "If-Match is stale: someone else changed the note")
    @problem_response(428, "If-Match is missing")
    @bp.doc(parameters=[{**IF_MATCH, "required": True}])
    def patch(self, data: dict[str, Any], note_id: int) -> Any:
        """Change some fields of a live note. Requires If-Match."""
        note = get_owned_note(note_id, api_owner(), trashed=False)
        version = expected_version(note, required=True)
        if "tags" in data:
            data = {**data, "tags": clean_tag_list(data["tags"])}
        try:
            update_note(note, data, version)
        except EditConflict:
            abort(412, STALE)
        return note_response(note), 200, _etag_header(note)

    @bp.response(204)
    @problem_response(404, NO_LIVE_NOTE)
    @problem_response(412, "If-Match is stale")
    @bp.doc(parameters=[IF_MATCH])
    def delete(self, note_id: int) -> Any:
        """Move a note to the trash (restorable)."""
        note = get_owned_note(note_id, api_owner(), trashed=False)
        try:
            trash_note(note, expected_version(note, required=False))
        except EditConflict:
            abort(412, STALE)
        return "", 204


@bp.route("/notes/<int:note_id>/restore", methods=["POST"])
@bp.response(200, NoteSchema, headers=ETAG_HEADER)
@problem_response(404, NO_NOTE)
@problem_response(409, "The note is not in the trash")
@problem_response(412, "If-Match is stale")
@bp.doc(parameters=[IF_MATCH])
def restore(note_id: int) -> Any:
    """Take a note out of the trash."""
    note = get_owned_note(note_id, api_owner())
    if not note.in_trash:
        abort(409, "This note is not in the trash; there is nothing to restore.")
    try:
        restore_note(note, expected_version(note, required=False))
    except EditConflict:
        abort(412, STALE)
    return note, 200, _etag_header(note)


@bp.route("/trash/<int:note_id>", methods=["DELETE"])
@bp.response(204)
@problem_response(404, NO_NOTE)
@problem_response(409, "The note is not in the trash")
@problem_response(412, "If-Match is stale")
@bp.doc(parameters=[IF_MATCH])
def delete_forever(note_id: int) -> Any:
    """Delete a note in the trash forever. This cannot be undone."""
    note = get_owned_note(note_id, api_owner())
    if not note.in_trash:
        abort(409, f"Move the note to the trash first (DELETE /api/v1/notes/{note_id}), then delete it forever.")
    expected = expected_version(note, required=False)
    if expected is not None and expected != note.version:
        abort(412, STALE)
    purge_note(note)
    return "", 204
