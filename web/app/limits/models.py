"""What the limits count: uses of something heavy, and API calls per fixed window."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db.types import UTCDateTime, utcnow
from ..extensions import Model


class RateEvent(Model):
    """One use of something limited, counted against a key (such as ``import:user:7``)."""

    __tablename__ = "rate_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.Index("ix_rate_events_key_created", "key", "created_at"),)


class ApiRateWindow(Model):
    """The API calls counted against a key (such as ``api:token:12``) in its current window.

    One row per key, overwritten when a new window starts, so the table never
    grows with traffic and needs no clean-up (app/limits/windows.py). An
    UNLOGGED table on PostgreSQL, made so by its migration (0007, which says why).
    """

    __tablename__ = "api_rate_windows"

    key: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    # Epoch seconds: the window's arithmetic is whole seconds, and an integer
    # compares the same on every database.
    window_start: Mapped[int] = mapped_column(sa.BigInteger)
    count: Mapped[int] = mapped_column(sa.Integer)
