"""SQLite settings for the embedded default, applied to every new connection."""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa


@sa.event.listens_for(sa.engine.Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys unless asked, and with them ON DELETE
    # CASCADE, which deleting an account relies on to remove notes and tokens.
    cursor.execute("PRAGMA foreign_keys=ON")
    # Several gunicorn workers share the file: wait for a lock rather than
    # fail at once, and let readers proceed while one worker writes.
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
