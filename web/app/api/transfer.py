"""/api/v1/export and /api/v1/import: all of your notes as a zip, and back."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, request

from ..notes.transfer import MAX_ARCHIVE_BYTES, ImportError_, export_zip, import_zip
from . import bp
from .auth import accepts, api_owner, api_user
from .docs import problem_response
from .schemas import ImportResultSchema

ZIP = "application/zip"


@bp.route("/export", methods=["GET"])
@bp.response(200, {"type": "string", "format": "binary"}, content_type=ZIP, description="The zip of all your notes")
def export() -> Any:
    """Download every note (live, archived and trashed) as a zip.

    One Markdown file per note with YAML front matter, and notes.json with
    everything, which /import reads.
    """
    return Response(
        export_zip(api_user()),
        mimetype=ZIP,
        headers={"Content-Disposition": 'attachment; filename="notes-export.zip"'},
    )


@bp.route("/import", methods=["POST"])
@accepts(ZIP)
@bp.doc(requestBody={"required": True, "content": {ZIP: {"schema": {"type": "string", "format": "binary"}}}})
@bp.response(201, ImportResultSchema)
@problem_response(413, "The zip is larger than 20 MiB")
@problem_response(422, "Not a zip made by export, or a note in it breaks a limit; nothing was imported")
def import_notes() -> Any:
    """Recreate the notes of an export zip (sent as the raw body). All or nothing."""
    # A whole notebook is larger than any one request elsewhere in the API.
    request.max_content_length = MAX_ARCHIVE_BYTES
    try:
        result = import_zip(api_owner(), request.get_data(cache=False))
    except ImportError_ as exc:
        abort(422, str(exc))
    return {"imported": result.count}, 201
