"""The factory puts load shedding outermost: a shed request runs nothing, not even the write."""

from __future__ import annotations

import time

from flask import Flask
from tests.helpers.api import API, assert_problem, count
from tests.helpers.app import make_app
from tests.helpers.web import bearer

from app.models import Note


def stale() -> dict[str, str]:
    return {"X-Request-Start": f"t={time.time() - 5:.3f}"}


def test_a_write_that_queued_too_long_gets_503_and_is_not_written(app: Flask, alice_secret: str) -> None:
    client = app.test_client()
    response = client.post(f"{API}/notes", json={"title": "late"}, headers={**bearer(alice_secret), **stale()})
    body = assert_problem(response, 503)
    assert "overloaded" in body["detail"]
    assert int(response.headers["Retry-After"]) > 0
    assert count(Note) == 0
    # The same request, not queued, is written.
    fresh = {**bearer(alice_secret), "X-Request-Start": f"t={time.time():.3f}"}
    assert client.post(f"{API}/notes", json={"title": "late"}, headers=fresh).status_code == 201
    assert count(Note) == 1


def test_a_zero_queue_timeout_turns_shedding_off() -> None:
    app = make_app(REQUEST_QUEUE_TIMEOUT=0)
    with app.app_context():
        assert app.test_client().get("/auth/login", headers=stale()).status_code == 200


def test_pages_are_shed_too(app: Flask) -> None:
    assert app.test_client().get("/auth/login", headers=stale()).status_code == 503
