"""SQLite settings for the embedded default, applied to each new connection of the app's SQLite engines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

_PRAGMAS = "notes_sqlite_pragmas"


def _configure(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def configure_connection(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # SQLite ignores foreign keys unless asked, and with them ON DELETE
        # CASCADE, which deleting an account relies on to remove notes and tokens.
        cursor.execute("PRAGMA foreign_keys=ON")
        # Several gunicorn workers share the file: wait for a lock rather than
        # fail at once (a write that still waits longer is a 503, see
        # app/http/errors.py), and let readers proceed while one worker writes.
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    return configure_connection


def init_app(engines: list[sa.Engine], *, busy_timeout_ms: int) -> None:
    """Configure every connection the SQLite ones among ``engines`` open; others are left alone.

    Once per engine: the listener is kept on the engine, so a second call changes nothing.
    """
    for engine in engines:
        if engine.dialect.name == "sqlite" and _PRAGMAS not in engine.__dict__:
            listener = engine.__dict__[_PRAGMAS] = _configure(busy_timeout_ms)
            sa.event.listen(engine, "connect", listener)
