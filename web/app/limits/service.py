"""Count uses of a limited thing, and refuse one too many."""

from __future__ import annotations

import math
from datetime import timedelta

import sqlalchemy as sa

from ..db.types import utcnow
from ..domain import RateLimited
from ..extensions import db
from .models import RateEvent


def spend(key: str, *, limit: int, window: timedelta, what: str, commit: bool = True) -> None:
    """Count one use of ``key``; RateLimited (nothing counted) after ``limit`` uses within ``window``.

    With ``commit`` False the use is only added to the session, to be
    committed with the work it counts (all or nothing with it).

    ``what`` names the thing for the message, e.g. "imports". Requests that
    run at the same time do not see each other's uncommitted uses, so a burst
    as wide as the server's concurrency can pass the limit once; it bounds
    sustained use, not every burst.
    """
    check(key, limit=limit, window=window, what=what)
    now = utcnow()
    # Uses older than the window count for nothing; drop them as we go.
    db.session.execute(sa.delete(RateEvent).where(RateEvent.key == key, RateEvent.created_at <= now - window))
    db.session.add(RateEvent(key=key, created_at=now))
    if commit:
        db.session.commit()


def check(key: str, *, limit: int, window: timedelta, what: str) -> None:
    """RateLimited when ``key`` has had ``limit`` uses within ``window``; reads only, writes nothing."""
    now = utcnow()
    since = now - window
    recent = db.session.scalars(
        sa.select(RateEvent.created_at)
        .where(RateEvent.key == key, RateEvent.created_at > since)
        .order_by(RateEvent.created_at.desc())
        .limit(limit)
    ).all()
    if len(recent) >= limit:
        # Free again when the oldest of the last ``limit`` uses leaves the window.
        wait = max(1, math.ceil((recent[-1] + window - now).total_seconds()))
        minutes = max(1, round(wait / 60))
        raise RateLimited(
            f"You have reached the limit on {what}: {limit} in {_duration(window)}. "
            f"Try again in about {minutes} minute{'s' if minutes != 1 else ''}.",
            retry_after=wait,
        )


def _duration(window: timedelta) -> str:
    hours, minutes = divmod(int(window.total_seconds()) // 60, 60)
    if hours and not minutes:
        return "an hour" if hours == 1 else f"{hours} hours"
    return f"{int(window.total_seconds()) // 60} minutes"
