"""The one page of Notes anyone can open without an account: a shared note (/s/<secret>).

It shows the rendered note and nothing else: no account data, no other
notes, no controls, no scripts, and it starts no session. Every answer, the
404 too, is kept out of search engines and every cache (a revoked link must
not live on in a shared one) and sends no Referer onwards (the link is the
secret).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, make_response, render_template, url_for

from .attachments import AttachmentNotFound, get_attachment
from .downloads import send_attachment
from .markdown import render_markdown
from .sharing import ShareNotFound, shared_note

bp = Blueprint("shared", __name__, url_prefix="/s")

PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}


@bp.get("/<secret>")
def note(secret: str) -> Response:
    """The note ``secret`` opens; a plain 404 when it opens nothing (whatever the reason)."""
    try:
        shared = shared_note(secret)
    except ShareNotFound:
        response = make_response(render_template("notes/shared_missing.html"), 404)
    else:
        body = render_markdown(shared.content, lambda key: url_for("shared.file", secret=secret, key=key))
        response = make_response(render_template("notes/shared.html", note=shared, body=body))
    response.headers.update(PRIVATE_HEADERS)
    return response


@bp.get("/<secret>/files/<key>")
def file(secret: str, key: str) -> Response:
    """A file of the note ``secret`` opens, as the owner would get it but never cached;
    the same plain 404 as the page when the link or the file opens nothing."""
    try:
        response = send_attachment(get_attachment(shared_note(secret), key), cache_control="no-store")
    except (ShareNotFound, AttachmentNotFound, FileNotFoundError) as exc:
        if isinstance(exc, FileNotFoundError):
            current_app.logger.error("attachment %s has a row but no stored file", key)
        response = make_response(render_template("notes/shared_missing.html"), 404)
    response.headers.update(PRIVATE_HEADERS)
    return response
