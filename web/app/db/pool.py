"""Pooled PostgreSQL connections: replace the ones the server has closed, mostly without a round trip.

SQLAlchemy's ``pool_pre_ping`` sends a statement on every checkout to find
connections the server closed since their last use (a database restart, an
``idle_session_timeout``, ``pg_terminate_backend``). On an API read that was
one round trip of three (docs/performance.md, "What was tuned").

A server that closes a connection says so on its socket: a FATAL message,
then end of file. A connection back in the pool has nothing left to read:
psycopg reads each answer up to its ReadyForQuery. So on checkout one
``poll()`` with no timeout, a system call rather than a round trip, tells
whether the server has spoken since; if it has, the pool opens a new
connection in its place.

Only a round trip finds a connection that died without a word (the server's
host lost power, a firewall forgot an idle flow). That takes time to happen,
so a connection idle longer than ``PING_AFTER_IDLE_SECONDS`` is still pinged
as before. Under load connections come back within milliseconds and are
never pinged; a quiet service pays one round trip after a pause.

A process forked from one that built the app (gunicorn's workers, with
``preload_app``) starts with an empty pool: a connection is a socket, and two
processes talking on one corrupt each other's conversations. This covers the
connections checked in at the fork; a connection checked out at that moment
would still be cleaned up in the child too, so nothing may fork while it
holds one (gunicorn's master never connects).
"""

from __future__ import annotations

import os
import select
import time
import weakref
from typing import Any

import sqlalchemy as sa

PING_AFTER_IDLE_SECONDS = 10.0
_IDLE_SINCE = "notes_idle_since"

# libpq settings that make a connection whose peer went silent (a network
# partition, a host that lost power) fail within seconds instead of hanging
# until the kernel gives up (minutes) or gunicorn kills the worker: a
# bounded connect, TCP keepalives on idle connections, and a bound on
# unacknowledged data (tcp_user_timeout, milliseconds). See
# https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS
POSTGRES_CONNECT_ARGS = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 3,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
}


# Every session plans each statement for its own parameters. psycopg prepares
# a statement on the server after a few runs on a connection, and PostgreSQL
# may then switch to a generic plan, one for any owner: beside one large
# account, a small account's search took a plan fit for the large one and
# ran several times slower (docs/performance.md, "The pages people look
# at"). Planning each time costs far less; psycopg's prepared statements
# still save the parsing. Sent at connection start, so it costs no round
# trip. An operator's own plan_cache_mode in the URL's options still wins
# (the last -c wins). See
# https://www.postgresql.org/docs/current/runtime-config-query.html#GUC-PLAN-CACHE-MODE
SERVER_OPTIONS = "-c plan_cache_mode=force_custom_plan"


def engine_options(database_uri: str, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` for the app's engine, with POSTGRES_CONNECT_ARGS under any connect_args of its own,
    and SERVER_OPTIONS before any ``options`` of the connect_args, the database URL or PGOPTIONS.

    Only for PostgreSQL: SQLite takes none of these.
    """
    if not database_uri.startswith("postgresql"):
        return options
    connect_args = {**POSTGRES_CONNECT_ARGS, **options.get("connect_args", {})}
    # connect_args would replace an ``options`` given in the URL, and libpq
    # reads PGOPTIONS only when no options are given: theirs are kept, after
    # ours so that theirs win.
    given = (
        connect_args.get("options")
        or sa.engine.make_url(database_uri).query.get("options")
        or os.environ.get("PGOPTIONS")
        or ""
    )
    if isinstance(given, tuple):
        given = " ".join(given)
    connect_args["options"] = f"{SERVER_OPTIONS} {given}".strip()
    return {**options, "connect_args": connect_args}


def server_has_spoken(dbapi_connection: Any) -> bool:
    """True when the server sent something to this idle connection, or closed it.

    Raises nothing: a connection psycopg already knows to be closed counts as spoken.
    """
    if dbapi_connection.closed:
        return True
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _stamp(dbapi_connection: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _checkout(engine: sa.Engine) -> Any:
    def check(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        """Raise DisconnectionError for a connection the server closed; the pool then opens another."""
        if server_has_spoken(dbapi_connection):
            raise sa.exc.DisconnectionError("the server closed this pooled connection")
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DisconnectionError(f"an idle pooled connection failed its ping: {exc}") from exc

    return check


def _empty_pool_after_fork(engine: sa.Engine) -> None:
    """In a forked child, give ``engine`` a new pool; the parent's connections stay the parent's."""
    ref = weakref.ref(engine)  # an app built and dropped (tests) must not live on in the fork hooks

    def in_child() -> None:
        found = ref()
        if found is not None:
            found.dispose(close=False)  # de-reference, never close: they are the parent's

    os.register_at_fork(after_in_child=in_child)


def init_app(engines: list[sa.Engine]) -> None:
    """Empty every pool in forked children, and check PostgreSQL connections on checkout, as described above.

    The engines must not also set ``pool_pre_ping``, or every checkout pays
    the round trip again.
    """
    for engine in engines:
        _empty_pool_after_fork(engine)
        if engine.dialect.name != "postgresql":
            continue  # SQLite has no server to lose
        sa.event.listen(engine, "connect", _stamp)
        sa.event.listen(engine, "checkin", _stamp)
        sa.event.listen(engine, "checkout", _checkout(engine))
