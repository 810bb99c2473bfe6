"""The notes API: /api/v1/notes (list, create, read, update, trash, restore,
delete forever, revisions, shares, attachments), /api/v1/tags, /api/v1/export and /api/v1/import."""

from __future__ import annotations

import io
from typing import Any

from flask import Response, abort, current_app, g, jsonify, request, url_for
from flask.views import MethodView
from marshmallow import RAISE

from ..api.auth import accepts, api_owner, api_user
from ..api.blueprint import bp
from ..api.docs import id_links, problem_response
from ..api.idempotency import IDEMPOTENCY_KEY, IDEMPOTENCY_LOST, deferred, idempotent
from ..extensions import api as rest_api
from ..http.limits import body_limit
from ..http.pagination import CursorError
from .attachments import (
    AttachmentError,
    add_attachment,
    delete_attachment,
    get_attachment,
    markdown_reference,
    note_attachments,
    upload_body_limit,
)
from .downloads import send_attachment, send_export
from .history import Editor, get_revision, list_revisions, session_client, token_client
from .models import Attachment, Note
from .rules import TITLE_PATTERN, TagError, clean_tag_list
from .schemas import (
    AccountShareListSchema,
    AttachmentListSchema,
    AttachmentSchema,
    ImportResultSchema,
    NewShareSchema,
    NoteCreateSchema,
    NoteListArgs,
    NotePageSchema,
    NoteSchema,
    NoteUpdateSchema,
    RevisionListArgs,
    RevisionPageSchema,
    RevisionSchema,
    ShareCreateSchema,
    ShareListSchema,
    TagCountSchema,
    TagListSchema,
    TagRenameSchema,
)
from .serialize import attachment_dict, note_dict, note_row_dict
from .service import (
    EditConflict,
    create_note,
    get_owned_note,
    list_note_rows,
    purge_note,
    restore_note,
    restore_revision,
    search,
    trash_note,
    update_note,
)
from .sharing import create_share, note_shares, revoke_share, user_shares
from .tags import rename_tag, tag_counts
from .transfer import ImportError_, archive_limit, export_file, import_zip, spool_upload

NOTE_ITEM = "/api/v1/notes/{note_id}"
NOTE_LINKS = id_links(
    "note_id",
    {
        "GetNote": (NOTE_ITEM, "get"),
        "UpdateNote": (NOTE_ITEM, "patch"),
        "TrashNote": (NOTE_ITEM, "delete"),
        "RestoreNote": ("/api/v1/notes/{note_id}/restore", "post"),
        "DeleteNoteForever": ("/api/v1/trash/{note_id}", "delete"),
    },
    etag=True,
)
ZIP = "application/zip"

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


def init_app() -> None:
    """Describe in the app's OpenAPI document what the schemas check beyond their fields:
    a POST needs a title or content that is not blank to take one from, a PATCH at
    least one field (else 422).

    Before the API blueprint is registered, so that its operations refer to these entries.
    """
    title_or_content = {
        "anyOf": [
            {"required": ["title"]},
            {"required": ["content"], "properties": {"content": {"pattern": TITLE_PATTERN}}},
        ]
    }
    rest_api.spec.components.schema("NoteCreate", title_or_content, schema=NoteCreateSchema)
    rest_api.spec.components.schema("NoteUpdate", {"minProperties": 1}, schema=NoteUpdateSchema)


def note_response(note: Note) -> Response:
    """A JSON response with ``note`` (status and headers are set by the view's return tuple)."""
    return jsonify(note_dict(note))


def page_response(items: list[dict[str, Any]], next_cursor: str | None) -> Response:
    """A JSON response shaped as NotePageSchema."""
    return jsonify({"items": items, "next_cursor": next_cursor})


def expected_version(note: Note, *, required: bool) -> int | None:
    """The note version the client's If-Match vouches for.

    None when there is no If-Match (and ``required`` is False) or it is ``*``.
    Aborts 428 when required and missing; raises EditConflict (412) when it
    names another version.
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
    raise EditConflict


def api_editor() -> Editor:
    """Who this API call saves as, and its client for folding: the token, or the browser's login session."""
    token = g.api_token
    if token is not None:
        return Editor(token.owner_id, token_client(token.token_id))
    user = api_user()
    return Editor(user.id, session_client(user.login_sid))


@bp.route("/notes")
class NoteCollection(MethodView):
    # webargs ignores unknown query args by default; a typo such as ?pinend=true
    # must fail loudly rather than silently list everything. An instance, not
    # the class: webargs would build a new schema for every request (docs/performance.md, "What was tuned").
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
        # Built by hand rather than by NotePageSchema: see serialize.py.
        return page_response([note_row_dict(row) for row in page.items], page.next_cursor)

    @idempotent
    @bp.arguments(NoteCreateSchema)
    @bp.response(
        201, NoteSchema, headers={"Location": {"schema": {"type": "string"}}, "ETag": {"schema": {"type": "string"}}}
    )
    @bp.doc(responses={201: {"links": NOTE_LINKS}}, parameters=[IDEMPOTENCY_KEY])
    @problem_response(409, IDEMPOTENCY_LOST)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a note."""
        note = create_note(
            api_owner(),
            data["title"],
            data["content"],
            pinned=data["pinned"],
            archived=data["archived"],
            tags=clean_tag_list(data["tags"]),
            commit=not deferred(),
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
        update_note(note, data, version, api_editor())
        return note_response(note), 200, _etag_header(note)

    @bp.response(204)
    @problem_response(404, NO_LIVE_NOTE)
    @problem_response(412, "If-Match is stale")
    @bp.doc(parameters=[IF_MATCH])
    def delete(self, note_id: int) -> Any:
        """Move a note to the trash (restorable)."""
        note = get_owned_note(note_id, api_owner(), trashed=False)
        trash_note(note, expected_version(note, required=False))
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
    restore_note(note, expected_version(note, required=False))
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
    purge_note(note, expected_version(note, required=False))
    return "", 204


NO_REVISION = "No such note of yours, or no such revision of it"


@bp.route("/notes/<int:note_id>/revisions", methods=["GET"])
@bp.arguments(RevisionListArgs(), location="query", unknown=RAISE)
@bp.response(200, RevisionPageSchema)
@problem_response(400, "The cursor was not made by this API (pass next_cursor unchanged)")
@problem_response(404, NO_NOTE)
def revision_list(args: dict[str, Any], note_id: int) -> Any:
    """List a note's revisions, newest first: each a version a save replaced.

    Saves by one client (an API token, or a browser login) within 2 minutes (by default)
    of each other fold into one revision. Follow next_cursor for more.
    """
    note = get_owned_note(note_id, api_owner())
    try:
        page = list_revisions(note, cursor=args.get("cursor"), limit=args["limit"])
    except CursorError:
        abort(400, "The cursor is not valid; pass the next_cursor value of the previous page unchanged.")
    return {"items": page.items, "next_cursor": page.next_cursor}


@bp.route("/notes/<int:note_id>/revisions/<int:revision_id>", methods=["GET"])
@bp.response(200, RevisionSchema)
@problem_response(404, NO_REVISION)
def revision_item(note_id: int, revision_id: int) -> Any:
    """Read one revision of a note, with its content."""
    return get_revision(get_owned_note(note_id, api_owner()), revision_id)


@bp.route("/notes/<int:note_id>/revisions/<int:revision_id>/restore", methods=["POST"])
@bp.response(200, NoteSchema, headers=ETAG_HEADER)
@problem_response(404, "No such note of yours outside the trash, or no such revision of it")
@problem_response(412, "If-Match is stale: someone else changed the note")
@problem_response(428, "If-Match is missing")
@bp.doc(parameters=[{**IF_MATCH, "required": True}])
def revision_restore(note_id: int, revision_id: int) -> Any:
    """Make a revision's title, content and tags the note's again. Requires If-Match.

    A new version: the one it replaces becomes a revision, and no revision
    is changed or removed.
    """
    note = get_owned_note(note_id, api_owner(), trashed=False)
    old = get_revision(note, revision_id)
    restore_revision(note, old, expected_version(note, required=True), api_editor())
    return note_response(note), 200, _etag_header(note)


@bp.route("/tags", methods=["GET"])
@bp.response(200, TagListSchema)
def list_tags() -> Any:
    """Your tags, by name, with how many notes outside the trash have each."""
    return {"items": [{"name": c.tag.name, "count": c.count} for c in tag_counts(api_owner())]}


@bp.route("/tags/rename", methods=["POST"])
@bp.arguments(TagRenameSchema)
@bp.response(200, TagCountSchema)
@problem_response(404, "You have no tag of that name")
def rename(data: dict[str, Any]) -> Any:
    """Rename a tag. Renaming to a tag you already have merges the two."""
    user = api_owner()
    try:
        tag = rename_tag(user, data["name"], data["new_name"])
    except TagError as exc:
        abort(404, str(exc))
    count = next((c.count for c in tag_counts(user) if c.tag.id == tag.id), 0)
    return {"name": tag.name, "count": count}


@bp.route("/notes/<int:note_id>/shares", methods=["GET"])
@bp.response(200, ShareListSchema)
@problem_response(404, NO_NOTE)
def share_list(note_id: int) -> Any:
    """List the links that open a note now (not revoked, not expired), newest first.

    A link's URL is shown only when it is made: only a hash of its secret is kept.
    """
    return {"items": note_shares(get_owned_note(note_id, api_owner()))}


@bp.route("/notes/<int:note_id>/shares", methods=["POST"])
@bp.arguments(ShareCreateSchema)
@bp.response(201, NewShareSchema)
@problem_response(404, NO_LIVE_NOTE)
def share_create(data: dict[str, Any], note_id: int) -> Any:
    """Make a read-only link to a note that anyone holding it can open, without an account.

    The answer's url is the link, shown this once. It stops working when
    revoked, when it expires (days), or while the note is in the trash.
    """
    share, secret = create_share(get_owned_note(note_id, api_owner(), trashed=False), days=data["days"])
    url = url_for("shared.note", secret=secret, _external=True)
    fields = ("id", "note_id", "created_at", "expires_at", "revoked_at")
    return {**{name: getattr(share, name) for name in fields}, "url": url}, 201


@bp.route("/notes/<int:note_id>/shares/<int:share_id>", methods=["DELETE"])
@bp.response(204)
@problem_response(404, "No such note of yours, or no such link to it")
def share_revoke(note_id: int, share_id: int) -> Any:
    """Revoke a link: from now on it opens nothing. Revoking it again changes nothing."""
    revoke_share(get_owned_note(note_id, api_owner()), share_id)
    return "", 204


@bp.route("/shares", methods=["GET"])
@bp.response(200, AccountShareListSchema)
def account_share_list() -> Any:
    """List every link of yours that opens a note now, newest first, with the note's title."""
    return {"items": user_shares(api_owner())}


def _attachment_dict(attachment: Attachment) -> dict[str, Any]:
    """As serialize.attachment_dict writes it (AttachmentSchema describes it in the OpenAPI document)."""
    url = url_for("api.attachment_content", note_id=attachment.note_id, key=attachment.key)
    return attachment_dict(attachment, markdown_reference(attachment), url)


NO_FILE = "No such note of yours, or no such file on it"


@bp.route("/notes/<int:note_id>/attachments", methods=["GET"])
@bp.response(200, AttachmentListSchema)
@problem_response(404, NO_NOTE)
def attachment_list(note_id: int) -> Any:
    """List a note's files, oldest first."""
    items = [_attachment_dict(a) for a in note_attachments(get_owned_note(note_id, api_owner()))]
    return jsonify({"items": items})


@bp.route("/notes/<int:note_id>/attachments", methods=["POST"])
@body_limit(upload_body_limit, bearer=True)
@accepts("multipart/form-data")
@bp.doc(
    requestBody={
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    },
)
@bp.response(201, AttachmentSchema)
@problem_response(400, "No file in the form field 'file'")
@problem_response(404, NO_LIVE_NOTE)
@problem_response(413, "The file is over ATTACHMENT_MAX_BYTES, or would take you past your quota")
@problem_response(422, "An empty file, or an image with too many pixels to decode")
def attachment_create(note_id: int) -> Any:
    """Attach a file (multipart form field ``file``) to a note. Its type is found from its
    bytes; an image loses its EXIF and XMP metadata (location, camera). Write the answer's
    ``markdown`` into the note to show it. Not idempotent (a multipart body differs on every
    try): a retry after a lost answer may store a second copy, which the list shows."""
    note = get_owned_note(note_id, api_owner(), trashed=False)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        abort(400, "Send the file in the multipart form field 'file', with a file name.")
    limit = int(current_app.config["ATTACHMENT_MAX_BYTES"])
    try:
        attachment = add_attachment(note, upload.filename, upload.stream.read(limit + 1))
    except AttachmentError as exc:
        abort(exc.status, str(exc))
    return jsonify(_attachment_dict(attachment)), 201


@bp.route("/notes/<int:note_id>/attachments/<key>", methods=["GET"])
@bp.response(200, AttachmentSchema)
@problem_response(404, NO_FILE)
def attachment_item(note_id: int, key: str) -> Any:
    """A file's details."""
    return jsonify(_attachment_dict(get_attachment(get_owned_note(note_id, api_owner()), key)))


@bp.route("/notes/<int:note_id>/attachments/<key>/content", methods=["GET"])
@bp.response(200, {"type": "string", "format": "binary"}, content_type="application/octet-stream")
@problem_response(404, NO_FILE)
def attachment_content(note_id: int, key: str) -> Any:
    """A file's bytes, with the type found at upload (only a raster image is ``inline``)."""
    attachment = get_attachment(get_owned_note(note_id, api_owner()), key)
    try:
        return send_attachment(attachment)
    except FileNotFoundError:
        current_app.logger.error("attachment %s has a row but no stored file", attachment.key)
        abort(404, "The file is missing from storage; ask the administrator to restore it from a backup.")


@bp.route("/notes/<int:note_id>/attachments/<key>", methods=["DELETE"])
@bp.response(204)
@problem_response(404, NO_FILE)
def attachment_delete(note_id: int, key: str) -> Any:
    """Delete a file for good. A note that shows it shows its name instead."""
    delete_attachment(get_owned_note(note_id, api_owner()), key)
    return "", 204


@bp.route("/export", methods=["GET"])
@bp.response(200, {"type": "string", "format": "binary"}, content_type=ZIP, description="The zip of all your notes")
def export() -> Any:
    """Download every note (live, archived and trashed) as a zip.

    One Markdown file per note with YAML front matter, and notes.json with
    everything, which /import reads.
    """
    return send_export(export_file(api_user()))


@bp.route("/import", methods=["POST"])
@body_limit(archive_limit, bearer=True)  # a whole notebook is larger than any other request
@idempotent
@accepts(ZIP, "application/json", "application/xml", "text/xml")
@bp.doc(
    requestBody={
        "required": True,
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in (ZIP, "application/json", "application/xml", "text/xml")
        },
    },
    parameters=[IDEMPOTENCY_KEY],
)
@problem_response(409, IDEMPOTENCY_LOST)
@bp.response(201, ImportResultSchema)
@problem_response(
    413, "The upload is larger than the import limit (IMPORT_MAX_MB, 20 MiB by default) plus your attachment quota"
)
@problem_response(422, "Not a format Notes reads, or a note in it breaks a limit; nothing was imported")
def import_notes() -> Any:
    """Add the notes of an upload (the raw body), all or nothing: a Notes export zip, a zip of
    Markdown files (YAML front matter or #hashtags), a Google Keep Takeout zip, memos' ListMemos
    JSON, or an Evernote .enex."""
    # Read from disk rather than memory, unless an Idempotency-Key had the body read already.
    upload = io.BytesIO(request.get_data(cache=False)) if deferred() else spool_upload(request.stream)
    try:
        with upload:
            result = import_zip(api_owner(), upload, commit=not deferred())
    except ImportError_ as exc:
        abort(422, str(exc))
    return {"imported": result.count, "source": result.source, "skipped": result.skipped}, 201
