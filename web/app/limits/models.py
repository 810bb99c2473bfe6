"""One use of something limited, counted against a key (such as ``import:user:7``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db.types import UTCDateTime, utcnow
from ..extensions import Model


class RateEvent(Model):
    __tablename__ = "rate_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.Index("ix_rate_events_key_created", "key", "created_at"),)
