"""The answer that sends an attachment's bytes, for the pages, the shared page and the API.

Who may read the file is checked before this is called. The type is the
one found from the bytes at upload; only a raster image is shown inline,
everything else (SVG, HTML, text) downloads, and nosniff and a sandboxing
CSP keep a browser from reading it as anything else. In the stack the app
only names the file (X-Accel-Redirect, ATTACHMENTS_ACCEL_REDIRECT) and
nginx sends it from the volume, so a worker is never tied up by a download;
on the embedded default Flask sends it.
"""

from __future__ import annotations

import os
import unicodedata
from typing import IO
from urllib.parse import quote

from flask import Response, current_app, send_file

from .attachments import inline, storage
from .models import Attachment

# Even an image is only an image: no script, no plugin, no form may run from a file's own URL.
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def content_disposition(attachment: Attachment) -> str:
    """``inline`` for an image a browser may show, ``attachment`` for anything else, with the file's name (RFC 6266)."""
    kind = "inline" if inline(attachment) else "attachment"
    ascii_name = unicodedata.normalize("NFKD", attachment.filename).encode("ascii", "ignore").decode()
    ascii_name = "".join(ch for ch in ascii_name if ch.isprintable() and ch not in '"\\') or "file"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(attachment.filename, safe='')}"


def send_attachment(attachment: Attachment, *, cache_control: str = "private, max-age=3600") -> Response:
    """The file's bytes as an answer (or nginx's instruction to send them); FileNotFoundError when storage lost them."""
    accel = current_app.config.get("ATTACHMENTS_ACCEL_REDIRECT")
    if accel:
        response = Response(status=200, content_type=attachment.content_type)
        response.headers["X-Accel-Redirect"] = accel + storage().accel_path(attachment.key)
    else:
        response = send_file(
            storage().open(attachment.key),
            mimetype=attachment.content_type,
            etag=attachment.sha256,
            last_modified=attachment.created_at,
            conditional=True,
            max_age=None,
        )
        # As stored, whole: send_file would add a second charset to "text/plain; charset=utf-8".
        response.headers["Content-Type"] = attachment.content_type
    response.headers["Content-Disposition"] = content_disposition(attachment)
    response.headers["Cache-Control"] = cache_control
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_CSP
    return response


def send_export(archive: IO[bytes]) -> Response:
    """An export's zip (``transfer.export_file``) as a download with its Content-Length.

    The response owns ``archive`` and closes it, deleting it, once sent or abandoned; under
    gunicorn the bytes go out with sendfile, never through the worker's memory.
    """
    size = os.fstat(archive.fileno()).st_size
    response = send_file(archive, mimetype="application/zip", conditional=False, etag=False, max_age=None)
    response.content_length = size
    response.headers["Content-Disposition"] = 'attachment; filename="notes-export.zip"'
    return response
