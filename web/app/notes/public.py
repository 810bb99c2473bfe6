"""The one page of Notes anyone can open without an account: a shared note (/s/<secret>).

It shows the rendered note and nothing else: no account data, no other
notes, no controls, no scripts, and it starts no session. Every answer, the
404 too, is kept out of search engines and every cache (a revoked link must
not live on in a shared one) and sends no Referer onwards (the link is the
secret).
"""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template

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
        page = render_template("notes/shared.html", note=shared, body=render_markdown(shared.content))
        response = make_response(page)
    response.headers.update(PRIVATE_HEADERS)
    return response
