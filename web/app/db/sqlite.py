"""SQLite settings for the embedded default, applied to each new connection of the app's SQLite engines."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def configure_connection(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys unless asked, and with them ON DELETE
    # CASCADE, which deleting an account relies on to remove notes and tokens.
    cursor.execute("PRAGMA foreign_keys=ON")
    # Several gunicorn workers share the file: wait for a lock rather than
    # fail at once, and let readers proceed while one worker writes.
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def init_app(engines: list[sa.Engine]) -> None:
    """Configure every connection the SQLite ones among ``engines`` open; others are left alone."""
    for engine in engines:
        if engine.dialect.name == "sqlite" and not sa.event.contains(engine, "connect", configure_connection):
            sa.event.listen(engine, "connect", configure_connection)
