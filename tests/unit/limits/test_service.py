"""Usage limits: uses counted per key in a sliding window, one too many refused with the wait."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.db.types import utcnow
from app.domain import RateLimited
from app.limits.models import RateEvent
from app.limits.service import spend
from app.models import db

HOUR = timedelta(hours=1)


def _events(key: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RateEvent).where(RateEvent.key == key)) or 0


def test_uses_up_to_the_limit_are_counted_and_the_next_is_refused_with_the_wait(app):
    for _ in range(3):
        spend("import:user:1", limit=3, window=HOUR, what="imports")
    with pytest.raises(RateLimited, match="limit on imports: 3 in an hour") as info:
        spend("import:user:1", limit=3, window=HOUR, what="imports")
    assert 0 < info.value.retry_after <= 3600
    assert _events("import:user:1") == 3  # the refused use is not counted


def test_keys_are_counted_apart(app):
    spend("import:user:1", limit=1, window=HOUR, what="imports")
    spend("import:user:2", limit=1, window=HOUR, what="imports")
    spend("export:user:1", limit=1, window=HOUR, what="exports")
    with pytest.raises(RateLimited):
        spend("import:user:1", limit=1, window=HOUR, what="imports")


def test_uses_older_than_the_window_count_for_nothing_and_are_dropped(app):
    long_ago = utcnow() - 2 * HOUR
    db.session.add_all([RateEvent(key="import:user:1", created_at=long_ago) for _ in range(5)])
    db.session.commit()
    spend("import:user:1", limit=1, window=HOUR, what="imports")
    assert _events("import:user:1") == 1


def test_the_wait_is_until_the_oldest_counted_use_leaves_the_window(app):
    db.session.add(RateEvent(key="k", created_at=utcnow() - timedelta(minutes=50)))
    db.session.commit()
    with pytest.raises(RateLimited, match="about 10 minutes") as info:
        spend("k", limit=1, window=HOUR, what="exports")
    assert 9 * 60 <= info.value.retry_after <= 10 * 60
