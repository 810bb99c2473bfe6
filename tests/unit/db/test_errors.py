"""How a database error is read: away for now, out of space, refusing writes, or a wrong statement."""

from __future__ import annotations

import sqlite3

import psycopg.errors
import pytest
import sqlalchemy as sa

from app.db import errors


def wrapped(original: Exception, kind: type[sa.exc.DBAPIError] = sa.exc.OperationalError) -> sa.exc.DBAPIError:
    return kind("INSERT ...", {}, original)


@pytest.mark.parametrize(
    "original",
    [
        psycopg.errors.DiskFull("could not extend file: No space left on device"),
        sqlite3.OperationalError("database or disk is full"),
    ],
)
def test_a_full_disk_is_unavailable_disk_full_and_refusing_writes(original: Exception) -> None:
    error = wrapped(original)
    assert errors.unavailable(error)
    assert errors.disk_full(error)
    assert errors.refuses_writes(error)


@pytest.mark.parametrize(
    "error",
    [
        wrapped(psycopg.errors.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction"),
                sa.exc.InternalError),
        wrapped(sqlite3.OperationalError("attempt to write a readonly database")),
    ],
)  # fmt: skip
def test_a_read_only_database_refuses_writes_but_is_not_full(error: sa.exc.DBAPIError) -> None:
    assert errors.refuses_writes(error)
    assert not errors.disk_full(error)


@pytest.mark.parametrize(
    "original",
    [
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.OperationalError("connection timeout expired"),
        sqlite3.OperationalError("database is locked"),
    ],
)
def test_a_database_that_is_away_for_now_is_unavailable_but_not_full(original: Exception) -> None:
    error = wrapped(original)
    assert errors.unavailable(error)
    assert not errors.disk_full(error)
    assert not errors.refuses_writes(error)


@pytest.mark.parametrize(
    "error",
    [
        wrapped(sqlite3.OperationalError("no such table: notes")),
        wrapped(psycopg.errors.UndefinedTable('relation "notes" does not exist'), sa.exc.ProgrammingError),
    ],
)
def test_a_wrong_statement_is_none_of_these(error: sa.exc.DBAPIError) -> None:
    assert not errors.unavailable(error)
    assert not errors.disk_full(error)
    assert not errors.refuses_writes(error)
