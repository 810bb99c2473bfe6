"""Pooled connections the server closed are replaced on checkout (app/db/pool.py), on a real PostgreSQL.

Pings are counted by wrapping the dialect's ``do_ping``; the backend behind
the pooled connection is named by ``pg_backend_pid()``. These tests use
``committed_app``: the savepoint-wrapped ``app`` holds one connection for the
whole test and never checks one out per request.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask
from tests.helpers.e2e import API, committed_token_user
from tests.helpers.web import bearer

from app.db import pool as dbpool
from app.db.pool import POSTGRES_CONNECT_ARGS
from app.models import db

pytestmark = pytest.mark.e2e


@dataclass
class Pool:
    app: Flask
    secret: str
    pings: list[bool] = field(default_factory=list)  # one entry per ping, False when it failed
    connects: int = 0

    def get(self) -> int:
        """GET the note list with the token; the status code."""
        return self.app.test_client().get(f"{API}/notes", headers=bearer(self.secret)).status_code

    def backend_pid(self) -> int:
        """The server process behind the connection the pool hands out next."""
        with self.app.app_context():
            pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
            db.session.remove()
        assert isinstance(pid, int)
        return pid


@pytest.fixture
def pool(committed_app: Callable[[], Flask], monkeypatch: pytest.MonkeyPatch) -> Iterator[Pool]:
    app = committed_app()
    secret, _ = committed_token_user(app, notes=1)
    with app.app_context():
        engine = db.engine
    engine.dispose()  # start from an empty pool
    state = Pool(app, secret)
    real_ping = engine.dialect.do_ping

    def counted_ping(dbapi_connection: Any) -> bool:
        try:
            result = real_ping(dbapi_connection)
        except Exception:
            state.pings.append(False)
            raise
        state.pings.append(True)
        return result

    def connected(dbapi_connection: Any, record: Any) -> None:
        state.connects += 1

    monkeypatch.setattr(engine.dialect, "do_ping", counted_ping)
    sa.event.listen(engine, "connect", connected)
    try:
        yield state
    finally:
        sa.event.remove(engine, "connect", connected)


def terminate(app: Flask, pid: int) -> None:
    """End backend ``pid`` as a restart or an admin would, and wait until it is gone."""
    with app.app_context():
        url = db.engine.url
    admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}) is True
            deadline = time.monotonic() + 10
            while True:
                # A fresh look each time: a transaction reads pg_stat_activity
                # once and keeps that snapshot (stats_fetch_consistency), so
                # a backend still there at the first look would never leave it.
                conn.rollback()
                if not conn.scalar(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}):
                    break
                assert time.monotonic() < deadline, f"backend {pid} did not end"
                time.sleep(0.05)
    finally:
        admin.dispose()


def test_a_busy_pool_sends_no_ping(pool: Pool) -> None:
    assert [pool.get() for _ in range(5)] == [200] * 5
    assert pool.pings == []
    assert pool.connects == 1


def test_a_connection_the_server_closed_is_replaced_before_a_request_uses_it(pool: Pool) -> None:
    assert pool.get() == 200
    old = pool.backend_pid()
    terminate(pool.app, old)

    assert pool.get() == 200

    assert pool.pings == []  # found from the socket, without a round trip
    assert pool.connects == 2
    assert pool.backend_pid() != old


def test_a_connection_idle_for_long_is_pinged_first(pool: Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    assert pool.get() == 200
    monkeypatch.setattr(dbpool, "PING_AFTER_IDLE_SECONDS", 0.0)

    assert pool.get() == 200

    assert pool.pings == [True]
    assert pool.connects == 1


def test_an_idle_connection_that_fails_its_ping_is_replaced(pool: Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection that died without a word fails its ping; the request still succeeds."""
    assert pool.get() == 200
    old = pool.backend_pid()
    monkeypatch.setattr(dbpool, "PING_AFTER_IDLE_SECONDS", 0.0)
    with pool.app.app_context():
        dialect = db.engine.dialect
    counted_ping = dialect.do_ping

    def dead_once(dbapi_connection: Any) -> bool:
        monkeypatch.setattr(dialect, "do_ping", counted_ping)
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(dialect, "do_ping", dead_once)

    assert pool.get() == 200

    assert pool.pings == [True]  # the new connection's, after the failed one
    assert pool.connects == 2
    assert pool.backend_pid() != old


def test_a_forked_child_never_uses_the_parents_connections(pool: Pool) -> None:
    """What gunicorn's preload_app does: fork workers from a process whose pool holds connections."""
    assert pool.get() == 200
    parent = pool.backend_pid()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe and never returns
        status = 1
        try:
            pid = pool.backend_pid()
            gc.collect()  # the parent's connections, dropped by the fork hook, are collected here
            os.write(write_end, str(pid).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        reported = pipe.read()
    _, status = os.waitpid(child, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert int(reported) != parent
    # The parent's connection is untouched: the next request still uses it.
    assert pool.get() == 200
    assert pool.backend_pid() == parent


def test_the_apps_connections_carry_the_fail_fast_settings(app: Flask) -> None:
    """A silent peer (a partition) fails a connection within seconds: libpq got the settings."""
    raw = db.session.connection().connection.dbapi_connection
    parameters = raw.info.get_parameters()
    assert parameters["tcp_user_timeout"] == str(POSTGRES_CONNECT_ARGS["tcp_user_timeout"])
    assert parameters["keepalives"] == "1"
    assert parameters["connect_timeout"] == str(POSTGRES_CONNECT_ARGS["connect_timeout"])


def test_the_apps_sessions_plan_each_statement_for_its_own_owner(app: Flask) -> None:
    """A prepared statement must not fall back to one generic plan for every account (app/db/pool.py)."""
    assert db.session.execute(sa.text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"
