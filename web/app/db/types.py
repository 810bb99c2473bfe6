"""Column types and values every table uses: aware UTC timestamps and id bounds."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

# Primary keys are INTEGER (32-bit signed in PostgreSQL): a larger id in a URL
# names no row, and must not reach the database, which would fail on it.
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def is_valid_id(value: int) -> bool:
    """True when ``value`` can be a primary key; anything else names no row."""
    return 0 < value <= MAX_ID


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python.

    Postgres stores ``timestamptz``. SQLite has no time zones, so values are
    stored as naive UTC (which keeps them comparable as text) and tagged UTC
    again when read.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime (app.db.types.utcnow())")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def render_alembic_type(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Write UTCDateTime into migrations as the plain column type it stores,
    so that migration files never import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
