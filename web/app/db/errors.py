"""What a database error says about the database: away for now, out of space, or
refusing writes, as opposed to a statement that is wrong.

One place for the codes and messages of both databases, used by the error
handler (app/http/errors.py: 503 or 500) and by the API rate limits, which
let calls through uncounted when the database takes no writes.
"""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa

# PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html).
DISK_FULL = "53100"
READ_ONLY_TRANSACTION = "25006"

# SQLite's words for a database that is there but cannot take the statement now.
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "database or disk is full", "disk i/o error")
_SQLITE_DISK_FULL = "database or disk is full"
_SQLITE_READ_ONLY = "attempt to write a readonly database"


def _sqlite_says(error: sa.exc.DBAPIError, *starts: str) -> bool:
    original = error.orig
    return isinstance(original, sqlite3.OperationalError) and str(original).lower().startswith(starts)


def unavailable(error: sa.exc.DBAPIError) -> bool:
    """True when ``error`` says the database cannot serve now (locked, restarting, unreachable,
    out of disk, a lock or statement timeout), not that the statement is wrong.

    psycopg files connection, disk and timeout failures under OperationalError
    and wrong SQL (a missing table) under ProgrammingError; SQLite files both
    under OperationalError, so there the message decides.
    """
    if error.connection_invalidated:
        return True
    if type(error.orig).__module__.startswith("psycopg"):
        return isinstance(error, sa.exc.OperationalError)
    return _sqlite_says(error, *_SQLITE_UNAVAILABLE)


def disk_full(error: sa.exc.DBAPIError) -> bool:
    """True when the database refused a write for want of disk space."""
    return getattr(error.orig, "sqlstate", None) == DISK_FULL or _sqlite_says(error, _SQLITE_DISK_FULL)


def refuses_writes(error: sa.exc.DBAPIError) -> bool:
    """True when the database refused a write it would take another time (no space, read-only), reads still served."""
    if disk_full(error) or getattr(error.orig, "sqlstate", None) == READ_ONLY_TRANSACTION:
        return True
    return _sqlite_says(error, _SQLITE_READ_ONLY)
