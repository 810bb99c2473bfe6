"""app.db.pool: telling from the socket alone whether the server closed a pooled connection."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from app.db.pool import server_has_spoken
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
        assert not db.engine.pool.dispatch.checkout
