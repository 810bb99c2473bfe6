"""Statements whose SQL differs between the two databases the app runs on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite


def insert_for(dialect: str) -> Callable[[Any], Any]:
    """The INSERT construct of ``dialect`` ("postgresql" or "sqlite"), which has
    ``on_conflict_do_nothing`` and ``on_conflict_do_update``.

    Raises ValueError for any other database: the app supports these two.
    """
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise ValueError(f"no upsert for the {dialect!r} database: Notes runs on PostgreSQL or SQLite")
