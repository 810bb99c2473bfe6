"""API call limits: one row per key, counted per fixed window by one upsert, refused with the wait."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import app.limits.windows as windows
from app.domain import RateLimited
from app.limits.models import ApiRateWindow
from app.limits.windows import Quota, count_call, refuse_if_exceeded
from app.models import db

# A moment 15 s into a minute: a 60 s window started 15 s ago and ends in 45.
T0 = 1_800_000_000 + 15.0
TOKEN = Quota("token", "api:token:1", 3, "this token")
USER = Quota("user", "api:user:1", 5, "this account", shared="all its tokens and browser sessions together")


@pytest.fixture
def clock(monkeypatch):
    """The limiter's clock, at T0 until a test moves it (``clock.at = ...``)."""

    class Clock:
        at = T0

    moved = Clock()
    monkeypatch.setattr(windows, "now", lambda: moved.at)
    return moved


def _row(key: str) -> tuple[int, int] | None:
    db.session.expire_all()
    row = db.session.execute(
        sa.select(ApiRateWindow.window_start, ApiRateWindow.count).where(ApiRateWindow.key == key)
    ).first()
    return None if row is None else (row[0], row[1])


def test_each_call_adds_one_to_every_quota_in_the_current_window(app, clock):
    counts = [
        [(u.quota.name, u.count, u.remaining, u.resets_in) for u in count_call([TOKEN, USER], window=60)]
        for _ in range(3)
    ]
    assert counts == [
        [("token", 1, 2, 45), ("user", 1, 4, 45)],
        [("token", 2, 1, 45), ("user", 2, 3, 45)],
        [("token", 3, 0, 45), ("user", 3, 2, 45)],
    ]
    assert _row("api:token:1") == (1_800_000_000, 3)


def test_one_row_per_key_however_many_calls_and_windows(app, clock):
    for step in range(5):
        clock.at = T0 + step * 60
        count_call([TOKEN, USER], window=60)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiRateWindow)) == 2


def test_a_new_window_starts_the_count_over(app, clock):
    for _ in range(4):
        count_call([TOKEN], window=60)
    clock.at = T0 + 44.5  # still the same window: half a second left, rounded up
    (usage,) = count_call([TOKEN], window=60)
    assert (usage.count, usage.resets_in) == (5, 1)
    clock.at = T0 + 45  # the next window
    (usage,) = count_call([TOKEN], window=60)
    assert (usage.count, usage.remaining, usage.resets_in) == (1, 2, 60)
    assert _row("api:token:1") == (1_800_000_060, 1)


def test_a_call_from_a_replica_whose_clock_lags_counts_into_the_newer_window(app, clock):
    clock.at = T0 + 60  # a replica a minute ahead opens the next window
    count_call([TOKEN], window=60)
    clock.at = T0  # one still in the previous minute must not start it over
    (usage,) = count_call([TOKEN], window=60)
    assert usage.count == 2
    assert usage.resets_in == 60  # the newer window's end, capped at one window
    assert _row("api:token:1") == (1_800_000_060, 2)


def test_keys_are_counted_apart(app, clock):
    other = Quota("token", "api:token:2", 3, "this token")
    count_call([TOKEN, USER], window=60)
    (first,) = count_call([other], window=60)
    assert first.count == 1
    assert [u.count for u in count_call([TOKEN, USER], window=60)] == [2, 2]


def test_the_count_is_committed_on_its_own_and_survives_a_rollback(app, clock):
    count_call([TOKEN], window=60)
    db.session.rollback()  # what a view that fails afterwards does
    assert _row("api:token:1") == (1_800_000_000, 1)


@pytest.mark.parametrize(("quotas", "window"), [([], 60), ([TOKEN], 0), ([TOKEN], -1)])
def test_no_quota_or_no_window_is_a_programming_error(app, quotas, window):
    with pytest.raises(ValueError, match="at least one quota and a window"):
        count_call(quotas, window=window)
    assert _row("api:token:1") is None


def test_within_the_quota_nothing_is_refused(app, clock):
    for _ in range(3):
        refuse_if_exceeded(count_call([TOKEN, USER], window=60))


def test_one_over_the_token_quota_is_refused_with_the_wait_and_the_numbers(app, clock):
    for _ in range(3):
        count_call([TOKEN, USER], window=60)
    usages = count_call([TOKEN, USER], window=60)
    with pytest.raises(RateLimited) as info:
        refuse_if_exceeded(usages)
    assert str(info.value) == (
        "This token's limit of 3 API requests per 60 seconds is used up. Try again in 45 seconds."
    )
    assert info.value.retry_after == 45
    assert [u.remaining for u in usages] == [0, 2]  # the refused call is taken back from the user


def test_a_refused_call_counts_only_against_the_quotas_that_refused_it(app, clock):
    for _ in range(3):
        count_call([TOKEN, USER], window=60)
    for _ in range(10):  # a client that ignores its 429s
        token, user = count_call([TOKEN, USER], window=60)
    assert (token.count, token.exceeded) == (13, True)  # stays refused until the window ends
    assert (user.count, user.exceeded) == (3, False)
    assert _row("api:user:1") == (1_800_000_000, 3)


def test_the_user_quota_names_the_account_and_who_shares_it(app, clock):
    for _ in range(5):
        count_call([USER], window=60)
    with pytest.raises(RateLimited, match=r"^This account's limit of 5 API requests per 60 seconds \(all its tokens"):
        refuse_if_exceeded(count_call([USER], window=60))


def test_both_quotas_used_up_are_both_named(app, clock):
    both = [TOKEN, Quota("user", "api:user:1", 3, "this account")]
    for _ in range(3):
        count_call(both, window=60)
    with pytest.raises(RateLimited, match=r"This token's limit of 3 .* and this account's limit of 3 .* are used up"):
        refuse_if_exceeded(count_call(both, window=60))


def test_both_keys_are_counted_by_one_statement_compiled_once(app, clock):
    """One round trip per call; the compiled statement is cached, not rebuilt per call."""
    statements: list[str] = []
    compiled: list[object] = []

    def listener(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)
        compiled.append(context.compiled)

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        count_call([TOKEN, USER], window=60)
        count_call([TOKEN, USER], window=60)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 2
    assert statements[0].startswith("INSERT INTO api_rate_windows") and statements[0].count("(?, ?, ?)") == 2
    assert compiled[0] is compiled[1]
