"""Read-only requests on PostgreSQL run without a transaction; writes keep theirs (app/db/session.py).

Checked on the wire: libpq's trace of each connection the app checks out
records every message psycopg sends. BEGIN, COMMIT and ROLLBACK go as simple
``Query`` messages; statements with parameters as Parse/Bind/Execute/Sync.
(A ping of a long-idle connection, app/db/pool.py, would run before the trace starts.)

These tests use ``committed_app``: the savepoint-wrapped ``app`` fixture binds
the session to one connection inside an outer transaction, where a request
has no transaction of its own to drop.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

import pytest
import sqlalchemy as sa
from flask import Flask
from psycopg import pq
from tests.helpers.e2e import API, committed_token_user, etag, login
from tests.helpers.web import bearer

from app.models import ApiToken, LoginSession, Note, db, utcnow

pytestmark = pytest.mark.e2e


@dataclass
class Checkout:
    """What one checkout of a pooled connection sent to the server."""

    connection_id: int
    lines: list[str] = field(default_factory=list)

    @property
    def simple_queries(self) -> list[str]:
        """The text of each simple-protocol Query (BEGIN, COMMIT, ROLLBACK...)."""
        return [line.split("Query\t", 1)[1].strip().strip('"') for line in self.lines if "\tQuery\t" in line]

    @property
    def statements(self) -> list[str]:
        """Statements sent with parameters (extended protocol), one per Sync."""
        return [line for line in self.lines if line.split("\t")[2:3] == ["Sync"]]


class Wire:
    """Traces what the app's engine sends, per checkout, with libpq's PQtrace.

    Each checkout is traced to a file of its own: a write request holds two
    connections at once (its session's, and the rate-limit count's).
    """

    def __init__(self, app: Flask) -> None:
        self.checkouts: list[Checkout] = []
        self._tracing: dict[int, tuple[Checkout, IO[str]]] = {}
        with app.app_context():
            self.pool = db.engine.pool
        sa.event.listen(self.pool, "checkout", self._checkout)
        sa.event.listen(self.pool, "checkin", self._checkin)

    def _checkout(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        trace = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed at checkin or in close()
        # libpq writes through a FILE* of its own on a duplicate of the fd;
        # PQuntrace flushes it but never closes it: a few fds per test.
        dbapi_connection.pgconn.trace(os.dup(trace.fileno()))
        dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        checkout = Checkout(id(dbapi_connection))
        self.checkouts.append(checkout)
        self._tracing[id(dbapi_connection)] = (checkout, trace)

    def _checkin(self, dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is None or id(dbapi_connection) not in self._tracing:
            return
        checkout, trace = self._tracing.pop(id(dbapi_connection))
        dbapi_connection.pgconn.untrace()
        trace.seek(0)
        checkout.lines = [line for line in trace.read().splitlines() if line.startswith("F\t")]
        trace.close()

    def take(self) -> list[Checkout]:
        """The checkouts since the last call."""
        taken, self.checkouts = self.checkouts, []
        return taken

    def close(self) -> None:
        sa.event.remove(self.pool, "checkout", self._checkout)
        sa.event.remove(self.pool, "checkin", self._checkin)
        for _, trace in self._tracing.values():
            trace.close()


def rate_limit_count(checkouts: list[Checkout]) -> tuple[Checkout, list[Checkout]]:
    """The checkout that only counted the call against its rate limits (app/limits/windows.py), and the others."""
    counts = [c for c in checkouts if any("api_rate_windows" in line for line in c.lines)]
    assert len(counts) == 1, checkouts
    return counts[0], [c for c in checkouts if c is not counts[0]]


@dataclass
class Seeded:
    app: Flask
    secret: str
    note_id: int
    wire: Wire


@pytest.fixture
def seeded(committed_app: Callable[[], Flask]) -> Iterator[Seeded]:
    """A committed user (alice) with two notes and a write token used just now."""
    app = committed_app()
    secret, (note_id, _) = committed_token_user(app, notes=2)
    wire = Wire(app)
    try:
        yield Seeded(app, secret, note_id, wire)
    finally:
        wire.close()


def _no_transaction(checkouts: list[Checkout]) -> None:
    for checkout in checkouts:
        assert checkout.simple_queries == [], "a read-only request sent " + ", ".join(checkout.simple_queries)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_an_api_read_sends_no_begin_or_rollback(seeded: Seeded, method: str) -> None:
    response = seeded.app.test_client().open(f"{API}/notes", method=method, headers=bearer(seeded.secret))

    assert response.status_code == 200
    checkouts = seeded.wire.take()
    assert len(checkouts) == 1  # the rate-limit count runs on the session's connection, no second one
    _no_transaction(checkouts)
    assert len(checkouts[0].statements) == 3  # the token, the rate-limit count, the page
    assert any("INSERT INTO api_rate_windows" in line for line in checkouts[0].lines)


def test_an_html_page_sends_no_begin_or_rollback(seeded: Seeded) -> None:
    client = seeded.app.test_client()
    login(client, "alice@example.com")
    seeded.wire.take()

    response = client.get("/notes/")

    assert response.status_code == 200 and "Note 1" in response.get_data(as_text=True)
    _no_transaction(seeded.wire.take())


def test_a_write_after_a_read_is_one_transaction_on_the_same_connection(seeded: Seeded) -> None:
    """The pool hands the read's connection to the write, back at the normal level."""
    client = seeded.app.test_client()
    auth = bearer(seeded.secret)
    assert client.get(f"{API}/notes/{seeded.note_id}", headers=auth).status_code == 200
    [read] = seeded.wire.take()
    assert read.simple_queries == []

    response = client.patch(
        f"{API}/notes/{seeded.note_id}",
        json={"title": "Renamed"},
        headers={**auth, "If-Match": etag(seeded.note_id, 1)},
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    # The change, then (expired by the commit) the note read again for the answer.
    count, (write, *rest) = rate_limit_count(seeded.wire.take())
    # The count is one statement in autocommit on a connection of its own, outside the write's transaction.
    assert count.simple_queries == [] and len(count.statements) == 1
    assert count.connection_id != write.connection_id
    assert write.connection_id == read.connection_id
    assert write.simple_queries[0].startswith("BEGIN")
    assert write.simple_queries[1:] == ["COMMIT"]
    assert any("UPDATE notes" in line for line in write.lines)
    for checkout in rest:  # a PATCH never runs without a transaction
        assert checkout.simple_queries[0].startswith("BEGIN")
    with seeded.app.app_context():
        assert db.session.get(Note, seeded.note_id).title == "Renamed"  # type: ignore[union-attr]


def test_a_refused_write_ends_its_transaction_with_rollback(seeded: Seeded) -> None:
    """A PATCH answered 412 runs in a transaction and rolls it back, as before."""
    client = seeded.app.test_client()
    headers = {**bearer(seeded.secret), "If-Match": etag(seeded.note_id, 1)}
    # A note in the database newer than the client's If-Match: 412 after the read.
    with seeded.app.app_context():
        note = db.session.get(Note, seeded.note_id)
        assert note is not None
        note.title = "Changed elsewhere"
        db.session.commit()
    seeded.wire.take()

    response = client.patch(f"{API}/notes/{seeded.note_id}", json={"title": "Mine"}, headers=headers)

    assert response.status_code == 412
    count, (write, *rest) = rate_limit_count(seeded.wire.take())
    assert count.simple_queries == []
    assert rest == []
    assert write.simple_queries[0].startswith("BEGIN")
    assert write.simple_queries[-1] == "ROLLBACK"
    with seeded.app.app_context():
        assert db.session.get(Note, seeded.note_id).title == "Changed elsewhere"  # type: ignore[union-attr]


def test_a_read_still_records_when_a_token_was_last_used(seeded: Seeded) -> None:
    with seeded.app.app_context():
        token = db.session.scalar(sa.select(ApiToken))
        assert token is not None
        token.last_used_at = long_ago = utcnow() - timedelta(minutes=5)
        db.session.commit()
    seeded.wire.take()

    response = seeded.app.test_client().get(f"{API}/notes", headers=bearer(seeded.secret))

    assert response.status_code == 200 and len(response.get_json()["items"]) == 2
    _no_transaction(seeded.wire.take())
    used = _committed(seeded.app, sa.select(ApiToken.last_used_at))
    assert used is not None and used > long_ago + timedelta(minutes=4)


def _committed(app: Flask, statement: Any) -> Any:
    """``statement``'s answer seen from a connection of its own: what is committed."""
    with app.app_context():
        engine = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.scalar(statement)
    finally:
        engine.dispose()


def _age_login_session(app: Flask, by: timedelta) -> datetime:
    with app.app_context():
        row = db.session.scalar(sa.select(LoginSession))
        assert row is not None
        row.last_seen_at = then = utcnow() - by
        db.session.commit()
    return then


def test_a_page_read_still_records_when_a_login_session_was_last_seen(seeded: Seeded) -> None:
    client = seeded.app.test_client()
    login(client, "alice@example.com")
    then = _age_login_session(seeded.app, timedelta(minutes=10))
    seeded.wire.take()

    assert client.get("/notes/").status_code == 200

    _no_transaction(seeded.wire.take())
    seen = _committed(seeded.app, sa.select(LoginSession.last_seen_at))
    assert seen is not None and seen > then + timedelta(minutes=9)


def test_a_page_read_deletes_a_timed_out_login_session_for_good(seeded: Seeded) -> None:
    client = seeded.app.test_client()
    login(client, "alice@example.com")
    _age_login_session(seeded.app, seeded.app.config["SESSION_IDLE_TIMEOUT"] + timedelta(minutes=1))
    seeded.wire.take()

    response = client.get("/notes/")

    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    _no_transaction(seeded.wire.take())
    assert _committed(seeded.app, sa.select(sa.func.count()).select_from(LoginSession)) == 0
