"""API rate limits on PostgreSQL: one count shared by every app on the database, exact under concurrency.

Each test builds apps on a fresh database whose commits are real
(``committed_app``): the limiter commits on a connection of its own, which
the rolled-back ``app`` fixture could not show to a second app.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from flask import Flask
from tests.helpers.e2e import API, committed_token_user
from tests.helpers.web import bearer

import app.limits.windows as windows
from app.limits.windows import Quota, count_call
from app.models import db

pytestmark = pytest.mark.e2e

T0 = 1_800_000_000 + 15.0


@pytest.fixture
def pinned_clock(monkeypatch):
    """Every call in one window, however long the test takes."""
    monkeypatch.setattr(windows, "now", lambda: T0)


def _limited(build: Callable[[], Flask], **limits: int) -> Flask:
    app = build()
    app.config.update(API_RATE_LIMIT_WINDOW_SECONDS=60, **{f"API_RATE_LIMIT_{k.upper()}": v for k, v in limits.items()})
    return app


def test_the_migrated_table_is_unlogged(committed_app):
    """Counting a call must not wait for a WAL flush (migration 0007)."""
    app = committed_app()
    with app.app_context():
        persistence = db.session.scalar(
            sa.text("SELECT relpersistence FROM pg_class WHERE relname = 'api_rate_windows'")
        )
    assert persistence == "u"


def test_two_apps_on_one_database_count_into_the_same_limits(committed_app, pinned_clock):
    """Two create_app calls, two engines and pools: as two workers or two replicas are."""
    first = _limited(committed_app, per_token=3, per_user=100)
    second = _limited(committed_app, per_token=3, per_user=100)
    assert first is not second
    secret, _ = committed_token_user(first, notes=1)
    one, two = first.test_client(), second.test_client()
    answers = [client.get(f"{API}/notes", headers=bearer(secret)) for client in (one, two, one, two)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit"].split(",")[0] for a in answers] == [
        '"token";r=2;t=45',
        '"token";r=1;t=45',
        '"token";r=0;t=45',
        '"token";r=0;t=45',
    ]
    assert answers[-1].headers["Retry-After"] == "45"


def test_a_write_that_fails_is_counted_all_the_same(committed_app, pinned_clock):
    """A write's count is committed on a connection of its own before the view; the view's rollback keeps it."""
    first = _limited(committed_app, per_token=3, per_user=100)
    second = _limited(committed_app, per_token=3, per_user=100)
    secret, _ = committed_token_user(first, notes=1)
    refused = first.test_client().post(f"{API}/notes", json={"title": ""}, headers=bearer(secret))
    assert refused.status_code == 422
    assert refused.headers["RateLimit"].startswith('"token";r=2;')
    assert (
        second.test_client().get(f"{API}/notes", headers=bearer(secret)).headers["RateLimit"].startswith('"token";r=1;')
    )


def test_concurrent_calls_never_let_more_than_the_limit_through(committed_app, pinned_clock):
    limit, threads, calls_each = 20, 6, 10
    app = _limited(committed_app, per_token=limit, per_user=1000)
    secret, _ = committed_token_user(app, notes=1)
    start = threading.Barrier(threads)

    def burst() -> list[int]:
        client = app.test_client()
        start.wait()
        return [client.get(f"{API}/notes", headers=bearer(secret)).status_code for _ in range(calls_each)]

    with ThreadPoolExecutor(threads) as pool:
        statuses = [status for result in pool.map(lambda _: burst(), range(threads)) for status in result]
    assert sorted(set(statuses)) == [200, 429]
    assert statuses.count(200) == limit
    assert statuses.count(429) == threads * calls_each - limit


def test_the_upsert_loses_no_call_under_concurrency(committed_app, pinned_clock):
    """Every concurrent count sees a count of its own: no two read the same row and wrote the same number."""
    app = committed_app()
    quotas = [Quota("token", "api:token:1", 10**6, "this token"), Quota("user", "api:user:1", 10**6, "this account")]
    threads, calls_each = 8, 25
    start = threading.Barrier(threads)

    def counts() -> list[tuple[int, int]]:
        with app.app_context():
            start.wait()
            seen = []
            for _ in range(calls_each):
                token, user = count_call(quotas, window=60)
                seen.append((token.count, user.count))
            return seen

    with ThreadPoolExecutor(threads) as pool:
        seen = [pair for result in pool.map(lambda _: counts(), range(threads)) for pair in result]
    total = threads * calls_each
    assert sorted(token for token, _ in seen) == list(range(1, total + 1))
    assert sorted(user for _, user in seen) == list(range(1, total + 1))


def test_a_read_only_database_still_serves_reads_uncounted(committed_app):
    """PostgreSQL refusing writes (read_only_sql_transaction) must not turn every API read into an error."""
    app = committed_app()
    secret, _ = committed_token_user(app, notes=1)
    with app.app_context():
        url = db.engine.url
        with db.engine.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{url.database}" SET default_transaction_read_only = on'))
            conn.commit()
        db.engine.dispose()  # new connections start read-only
    response = app.test_client().get(f"{API}/notes", headers=bearer(secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(response.get_json()["items"]) == 1
    assert "RateLimit" not in response.headers
