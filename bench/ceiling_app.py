"""The ceilings for `make bench`: bare Flask views, never part of the product.

The bench overlay runs this app from the web image, under the same
gunicorn.conf.py and behind the same nginx (TLS, proxy settings, upstream
keepalive) as Notes, so the gap between its figures and an endpoint's is what
Notes itself costs.

- ``/ceiling``, the framework ceiling: a small JSON object, no database.
- ``/floor``, the data floor of ``GET /api/v1/notes``: the same two
  statements (the token lookup of ``app.accounts.tokens`` and the page of
  ``app.notes.service``, imported, so they cannot drift apart) on the same
  database, and the same JSON (``app.notes.serialize``), on a plain SQLAlchemy
  engine in a bare view. What the list costs beyond this is Notes' own
  request path: its Flask extensions and hooks, flask-smorest and webargs,
  the ORM session.
- ``/floor/search?q=WORD``, the data floor of ``GET /api/v1/notes?q=WORD``:
  the same token lookup, then the app's own search (``app.notes.search``:
  the query's parse, its statement, the substring fallback and the
  highlighting, with the API's filters from ``note_filters``) run in a plain
  ORM session on the same engine, and the same JSON (``note_dict``). The
  search's statement selects ``Note`` objects, whose tags the relationship
  loads in one more query, so building those objects is in this floor, unlike
  in ``/floor``; what the search costs beyond it is Notes' request path (as
  above), Flask-SQLAlchemy's scoped session, and the token's once-a-minute
  ``last_used_at`` write. It leaves out the API's other parameters (tag,
  archived, trashed, pinned, limit): the bench searches with ``q`` alone.
"""

import os
from types import SimpleNamespace

import sqlalchemy as sa
from flask import Flask, abort, jsonify, request
from sqlalchemy.orm import Session

from app.accounts.tokens import token_lookup_statement
from app.models import ApiToken, utcnow
from app.notes.search import search_notes
from app.notes.serialize import note_dict, note_row_dict
from app.notes.service import next_cursor, note_filters, page_params, page_statement

app = Flask(__name__)
# Connects on first use: the ceiling's own route never does. AUTOCOMMIT, as
# the app's GET requests run (app/db/session.py).
engine = sa.create_engine(
    os.environ.get("DATABASE_URL", "sqlite://"), pool_size=5, max_overflow=5, isolation_level="AUTOCOMMIT"
)


@app.get("/ceiling")
def ceiling():  # type: ignore[no-untyped-def]
    return jsonify(ok=True, service="ceiling")


def token_owner(conn: sa.Connection) -> SimpleNamespace:
    """The owner of the request's bearer token, as api_owner() gives it; aborts 401 for an unusable token."""
    secret = request.headers.get("Authorization", "").partition(" ")[2]
    token = conn.execute(token_lookup_statement(), {"token_hash": ApiToken.hash_secret(secret)}).first()
    if token is None or not ApiToken.usable(token.revoked, token.expires_at, utcnow()):
        abort(401)
    return SimpleNamespace(id=token.owner_id)


@app.get("/floor")
def floor():  # type: ignore[no-untyped-def]
    limit = 20
    with engine.connect() as conn:
        params = page_params(token_owner(conn), None, None, limit)
        statement = page_statement("rows", engine.dialect.name, False, False, None, 0, cursor=False)
        rows = list(conn.execute(statement, params))
    return jsonify({"items": [note_row_dict(row) for row in rows[:limit]], "next_cursor": next_cursor(rows, limit)})


@app.get("/floor/search")
def floor_search():  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        owner = token_owner(session.connection())
        # The API's filters when only q is given: live, unarchived notes, any tag.
        filters = note_filters(owner, archived=False, trashed=False, pinned=None, tags=None)
        hits = search_notes(filters, request.args.get("q", ""), limit=20, session=session)
        items = [note_dict(hit.note, str(hit.snippet)) for hit in hits]
    return jsonify({"items": items, "next_cursor": None})


@app.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    # The web image's HEALTHCHECK asks this path.
    return jsonify(status="ok")
