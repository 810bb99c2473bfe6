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
"""

import os
from types import SimpleNamespace

import sqlalchemy as sa
from flask import Flask, abort, jsonify, request

from app.accounts.tokens import token_lookup_statement
from app.models import ApiToken, utcnow
from app.notes.serialize import note_row_dict
from app.notes.service import next_cursor, page_params, page_statement

app = Flask(__name__)
# Connects on first use: the ceiling's own route never does. AUTOCOMMIT, as
# the app's GET requests run (app/db/session.py).
engine = sa.create_engine(
    os.environ.get("DATABASE_URL", "sqlite://"), pool_size=5, max_overflow=5, isolation_level="AUTOCOMMIT"
)


@app.get("/ceiling")
def ceiling():  # type: ignore[no-untyped-def]
    return jsonify(ok=True, service="ceiling")


@app.get("/floor")
def floor():  # type: ignore[no-untyped-def]
    secret = request.headers.get("Authorization", "").partition(" ")[2]
    limit = 20
    with engine.connect() as conn:
        token = conn.execute(token_lookup_statement(), {"token_hash": ApiToken.hash_secret(secret)}).first()
        if token is None or not ApiToken.usable(token.revoked, token.expires_at, utcnow()):
            abort(401)
        params = page_params(SimpleNamespace(id=token.owner_id), None, None, limit)
        statement = page_statement("rows", engine.dialect.name, False, False, None, 0, cursor=False)
        rows = list(conn.execute(statement, params))
    return jsonify({"items": [note_row_dict(row) for row in rows[:limit]], "next_cursor": next_cursor(rows, limit)})


@app.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    # The web image's HEALTHCHECK asks this path.
    return jsonify(status="ok")
