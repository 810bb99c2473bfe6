"""app.db.pool: telling from the socket alone whether the server closed a pooled connection."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from app.db.pool import POSTGRES_CONNECT_ARGS, SERVER_OPTIONS, engine_options, server_has_spoken
from app.models import db


@dataclass
class IdleConnection:
    """What server_has_spoken reads of a psycopg connection: ``closed`` and ``fileno()``."""

    sock: socket.socket
    closed: bool = False

    def fileno(self) -> int:
        return self.sock.fileno()


@pytest.fixture
def pair() -> Iterator[tuple[IdleConnection, socket.socket]]:
    ours, server = socket.socketpair()
    try:
        yield IdleConnection(ours), server
    finally:
        ours.close()
        server.close()


def test_a_silent_server_has_not_spoken(pair):
    connection, _ = pair
    assert server_has_spoken(connection) is False


def test_a_message_from_the_server_counts(pair):
    connection, server = pair
    server.sendall(b"E\x00\x00\x00\x05")  # the start of an ErrorResponse, e.g. FATAL 57P01
    assert server_has_spoken(connection) is True


def test_a_closed_socket_counts(pair):
    connection, server = pair
    server.close()
    assert server_has_spoken(connection) is True


def test_a_connection_the_driver_knows_is_closed_counts_without_touching_its_socket(pair):
    connection, _ = pair
    connection.closed = True
    connection.sock.close()  # fileno() would now fail
    assert server_has_spoken(connection) is True


def test_sqlite_pools_get_no_checks(app):
    with app.app_context():
        assert db.engine.dialect.name == "sqlite"
        # Only the metrics' pool counters (app/metrics/instrument.py) listen there.
        checks = [fn for fn in db.engine.pool.dispatch.checkout if fn.__module__ == "app.db.pool"]
        assert checks == []


def test_postgres_engines_get_the_connect_args_that_fail_fast_on_a_silent_peer() -> None:
    options = engine_options("postgresql+psycopg://u:p@db/notes", {"pool_size": 5})
    assert options["pool_size"] == 5
    assert options["connect_args"]["tcp_user_timeout"] > 0
    assert options["connect_args"]["keepalives"] == 1
    assert options["connect_args"]["connect_timeout"] > 0


def test_connect_args_of_the_configuration_win_and_sqlite_gets_none() -> None:
    own = engine_options("postgresql+psycopg://u:p@db/notes", {"connect_args": {"connect_timeout": 2}})
    assert own["connect_args"]["connect_timeout"] == 2
    assert own["connect_args"]["tcp_user_timeout"] == POSTGRES_CONNECT_ARGS["tcp_user_timeout"]
    assert engine_options("sqlite:///notes.db", {}) == {}


def test_postgres_sessions_plan_for_their_own_parameters_and_keep_the_operators_options(monkeypatch) -> None:
    monkeypatch.delenv("PGOPTIONS", raising=False)
    assert engine_options("postgresql+psycopg://u:p@db/notes", {})["connect_args"]["options"] == SERVER_OPTIONS
    # The operator's come last, so that their own -c plan_cache_mode would win.
    url = "postgresql+psycopg://u:p@db/notes?options=-c%20statement_timeout%3D5000"
    assert engine_options(url, {})["connect_args"]["options"] == f"{SERVER_OPTIONS} -c statement_timeout=5000"
    own = engine_options("postgresql+psycopg://u:p@db/notes", {"connect_args": {"options": "-c work_mem=8MB"}})
    assert own["connect_args"]["options"] == f"{SERVER_OPTIONS} -c work_mem=8MB"
    # libpq reads PGOPTIONS only when no options are given: it is kept too.
    monkeypatch.setenv("PGOPTIONS", "-c lock_timeout=3000")
    assert engine_options("postgresql+psycopg://u:p@db/notes", {})["connect_args"]["options"] == (
        f"{SERVER_OPTIONS} -c lock_timeout=3000"
    )
