"""The ORM session class behind ``db.session``: reads on PostgreSQL without a transaction.

A GET or HEAD request on PostgreSQL runs its statements in autocommit, so the
driver sends no BEGIN before them and no ROLLBACK after: two of the five
round trips of an API read (docs/performance.md, "What was tuned"). Under READ COMMITTED, the
level the app runs at, each statement takes its own snapshot inside a
transaction too, so reads see exactly what they saw before.

What a GET may still write are single-statement touches (a token's
``last_used_at``, a login session's ``last_seen_at`` or its deletion once it
timed out); in autocommit each is committed by its own statement, and the
``commit()`` that follows it in the code is harmless. A GET handler that
needs several writes to succeed or fail together must not rely on this
session: it would get no transaction. POST, PUT, PATCH and DELETE, and
everything outside a request (CLI, scripts), keep a transaction as before.

The autocommit is a connection characteristic of a second engine object
sharing the app's pool (``Engine.execution_options``): it is set on checkout
and SQLAlchemy resets it when the connection goes back to the pool, so the
next request gets a connection at the normal isolation level. psycopg
switches autocommit on the client side, without a round trip.

SQLite keeps its transactions: it has no round trips to save, and its
in-memory test database shares one connection between a test and its
requests, which autocommit would commit under the test's feet.
"""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from flask_sqlalchemy.session import Session

READ_ONLY_METHODS = frozenset({"GET", "HEAD"})

_lock = threading.Lock()


def autocommit_engine(engine: sa.Engine) -> sa.Engine:
    """``engine`` with AUTOCOMMIT on its connections, one object per engine.

    One object, because the session keys its connections by the engine it is
    given: a second one would check out a second connection for the same
    request. Kept on the engine itself, so it goes when the engine goes; the
    lock keeps two threads of a gthread worker from building one each.
    """
    found: sa.Engine | None = engine.__dict__.get("_notes_autocommit")
    if found is None:
        with _lock:
            found = engine.__dict__.get("_notes_autocommit")
            if found is None:
                found = engine.execution_options(isolation_level="AUTOCOMMIT")
                engine.__dict__["_notes_autocommit"] = found
    return found


class NotesSession(Session):
    """Flask-SQLAlchemy's session, in autocommit for read-only requests on PostgreSQL."""

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kwargs: Any) -> Any:
        found = super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
        if (
            isinstance(found, sa.Engine)
            and found.dialect.name == "postgresql"
            and has_request_context()
            and request.method in READ_ONLY_METHODS
        ):
            return autocommit_engine(found)
        return found
