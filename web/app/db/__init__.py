"""The database plumbing: engine and pool tuning, read-only autocommit sessions, snapshots, SQLite pragmas.

Everything here is about how the app talks to its database, nothing about
what it stores: no module in ``app.db`` imports a domain (a contract in
``make lint``). Why each piece exists, with its measurements, is in
docs/performance.md ("What was tuned").
"""

from __future__ import annotations

from flask import Flask

from . import cli, pool, sqlite


def init_app(app: Flask) -> None:
    """Tune the engines of the Flask-SQLAlchemy extension bound to ``app``: SQLite pragmas,
    PostgreSQL pool checks, fork safety; and add ``flask deploy migrate``."""
    with app.app_context():
        engines = list(app.extensions["sqlalchemy"].engines.values())
    sqlite.init_app(engines, busy_timeout_ms=int(app.config["SQLITE_BUSY_TIMEOUT_MS"]))
    pool.init_app(engines)
    cli.init_app(app)
