"""API rate limits per token and per user: the RateLimit headers, 429 with Retry-After, and what counts.

The limits are lowered per test (``app.config``); the limiter's clock is
pinned 15 s into a window of 60 s, so every answer says the window ends in 45.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from tests.helpers.api import API, assert_problem, count
from tests.helpers.data import PASSWORD, Factory
from tests.helpers.web import bearer, csrf_token_from
from werkzeug.test import TestResponse

import app.limits.windows as windows
from app.limits.models import ApiRateWindow
from app.models import Note, User, db, utcnow

T0 = 1_800_000_000 + 15.0
# One member of a structured-field list as the draft writes them: "name";a=1;b=2
MEMBER = re.compile(r'^"(?P<name>[a-z]+)"((?:;[a-z]+=\d+)+)$')


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        at = T0

    moved = Clock()
    monkeypatch.setattr(windows, "now", lambda: moved.at)
    return moved


@pytest.fixture
def limits(app: Flask, clock):
    """Small quotas: 3 calls per token, 5 per user, in windows of 60 s."""
    app.config.update(API_RATE_LIMIT_PER_TOKEN=3, API_RATE_LIMIT_PER_USER=5, API_RATE_LIMIT_WINDOW_SECONDS=60)


def parse(field: str) -> dict[str, dict[str, int]]:
    """A RateLimit or RateLimit-Policy value as {policy: {parameter: integer}}; fails on anything else."""
    parsed = {}
    for member in field.split(", "):
        match = MEMBER.match(member)
        assert match, f"not a structured-field list member: {member!r} in {field!r}"
        params = dict(p.split("=") for p in match.group(2).strip(";").split(";"))
        parsed[match.group("name")] = {k: int(v) for k, v in params.items()}
    return parsed


def state(response: TestResponse) -> dict[str, dict[str, int]]:
    return parse(response.headers["RateLimit"])


def list_notes(client: FlaskClient, secret: str) -> TestResponse:
    return client.get(f"{API}/notes", headers=bearer(secret))


def test_every_counted_answer_carries_the_policies_and_what_is_left(client, alice_secret, limits):
    answers = [list_notes(client, alice_secret) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    for answer in answers:
        assert parse(answer.headers["RateLimit-Policy"]) == {"token": {"q": 3, "w": 60}, "user": {"q": 5, "w": 60}}
    assert [state(a) for a in answers] == [
        {"token": {"r": 2, "t": 45}, "user": {"r": 4, "t": 45}},
        {"token": {"r": 1, "t": 45}, "user": {"r": 3, "t": 45}},
        {"token": {"r": 0, "t": 45}, "user": {"r": 2, "t": 45}},
    ]


def test_the_default_policies_are_the_documented_ones(client, alice_secret, clock):
    answer = list_notes(client, alice_secret)
    assert answer.headers["RateLimit-Policy"] == '"token";q=600;w=60, "user";q=1200;w=60'
    assert answer.headers["RateLimit"] == '"token";r=599;t=45, "user";r=1199;t=45'


def test_errors_are_counted_and_carry_the_headers_too(client, alice_secret, limits):
    missing = client.get(f"{API}/notes/999", headers=bearer(alice_secret))
    assert_problem(missing, 404)
    assert state(missing)["token"] == {"r": 2, "t": 45}
    unsupported = client.post(f"{API}/notes", data="x", content_type="text/plain", headers=bearer(alice_secret))
    assert_problem(unsupported, 415)
    assert state(unsupported)["token"] == {"r": 1, "t": 45}


def test_one_call_over_the_token_quota_is_429_with_retry_after(client, alice_secret, limits):
    for _ in range(3):
        assert list_notes(client, alice_secret).status_code == 200
    refused = list_notes(client, alice_secret)
    body = assert_problem(refused, 429)
    assert refused.headers["Retry-After"] == "45"
    assert state(refused)["token"] == {"r": 0, "t": 45}
    assert body["detail"] == "This token's limit of 3 API requests per 60 seconds is used up. Try again in 45 seconds."


def test_a_refused_post_writes_nothing(client, alice_secret, limits):
    for i in range(3):
        assert client.post(f"{API}/notes", json={"title": f"n{i}"}, headers=bearer(alice_secret)).status_code == 201
    refused = client.post(f"{API}/notes", json={"title": "one too many"}, headers=bearer(alice_secret))
    assert_problem(refused, 429)
    assert count(Note) == 3
    with_key = {**bearer(alice_secret), "Idempotency-Key": "k-1"}
    assert_problem(client.post(f"{API}/notes", json={"title": "keyed"}, headers=with_key), 429)
    assert count(Note) == 3


def test_a_new_window_lets_calls_in_again(client, alice_secret, limits, clock):
    for _ in range(4):
        list_notes(client, alice_secret)
    assert list_notes(client, alice_secret).status_code == 429
    clock.at = T0 + 45
    again = list_notes(client, alice_secret)
    assert again.status_code == 200
    assert state(again)["token"] == {"r": 2, "t": 60}


def test_tokens_of_one_user_share_the_user_quota(client, factory: Factory, user: User, limits):
    _, first = factory.token(user, name="first")
    _, second = factory.token(user, name="second")
    answers = [list_notes(client, first) for _ in range(3)] + [list_notes(client, second) for _ in range(3)]
    # Each token is within its own 3; together they pass the user's 5.
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 200, 429]
    refused = answers[-1]
    body = assert_problem(refused, 429)
    # Refused by the user's quota only, so the call is not kept against the token's.
    assert state(refused) == {"token": {"r": 1, "t": 45}, "user": {"r": 0, "t": 45}}
    assert body["detail"] == (
        "This account's limit of 5 API requests per 60 seconds (all its tokens and browser sessions together) "
        "is used up. Try again in 45 seconds."
    )


def test_a_token_that_ignores_its_429s_leaves_its_owner_the_rest_of_the_quota(
    client, factory: Factory, user: User, limits
):
    _, runaway = factory.token(user, name="runaway")
    _, other = factory.token(user, name="other")
    statuses = [list_notes(client, runaway).status_code for _ in range(20)]
    assert statuses == [200] * 3 + [429] * 17
    # The user's quota of 5 lost only the 3 calls that were served.
    assert [list_notes(client, other).status_code for _ in range(3)] == [200, 200, 429]


def test_another_user_is_not_affected(client, factory: Factory, user: User, alice_secret, limits):
    for _ in range(6):
        list_notes(client, alice_secret)
    assert list_notes(client, alice_secret).status_code == 429
    _, bob_secret = factory.token(factory.user("bob@example.com"))
    bob = list_notes(client, bob_secret)
    assert bob.status_code == 200
    assert state(bob) == {"token": {"r": 2, "t": 45}, "user": {"r": 4, "t": 45}}


def test_a_browser_session_counts_against_the_user_only(client, logged_in: User, factory: Factory, limits):
    answers = [client.get(f"{API}/notes") for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert answers[0].headers["RateLimit-Policy"] == '"user";q=5;w=60'
    assert state(answers[-1]) == {"user": {"r": 0, "t": 45}}
    assert_problem(client.get(f"{API}/notes"), 429)
    # The session spent the user's quota, so a fresh token of the same user is refused too.
    _, secret = factory.token(logged_in)
    assert_problem(list_notes(client, secret), 429)


def test_calls_that_are_not_let_in_count_nothing_and_carry_no_headers(client, alice_secret, limits):
    for _ in range(10):
        anonymous = client.get(f"{API}/notes")
        assert_problem(anonymous, 401)
        assert "RateLimit" not in anonymous.headers
        assert_problem(client.get(f"{API}/notes", headers=bearer("nt_unknown")), 401)
    assert state(list_notes(client, alice_secret))["token"]["r"] == 2


def test_a_read_only_tokens_refused_write_is_still_its_call(client, factory: Factory, user: User, limits):
    _, secret = factory.token(user, scope="read")
    refused = client.post(f"{API}/notes", json={"title": "x"}, headers=bearer(secret))
    assert_problem(refused, 403)
    assert state(refused)["token"]["r"] == 2


def test_a_forged_cookie_call_without_csrf_spends_nothing_of_the_users_quota(csrf_app: Flask, clock):
    csrf_app.config.update(API_RATE_LIMIT_PER_USER=5)
    Factory().user("alice@example.com")
    client = csrf_app.test_client()
    token = csrf_token_from(client, "/auth/login")
    assert (
        client.post(
            "/auth/login", data={"email": "alice@example.com", "password": PASSWORD, "csrf_token": token}
        ).status_code
        == 302
    )
    for _ in range(10):
        forged = client.post(f"{API}/notes", json={"title": "forged"})
        assert forged.status_code == 400
        assert "RateLimit" not in forged.headers
    assert state(client.get(f"{API}/notes")) == {"user": {"r": 4, "t": 45}}
    assert count(Note) == 0


def _read_only(app: Flask) -> None:
    """Every new connection of ``app`` may read but not write, as a database that refuses writes does."""

    def read_only(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.execute("PRAGMA query_only = ON")

    sa.event.listen(db.engine, "connect", read_only)
    db.session.remove()
    db.engine.dispose()


def _token_used_just_now(user: User) -> str:
    """A token whose once-a-minute last-use write is not due, so a read writes nothing else."""
    token, secret = Factory().token(user)
    token.last_used_at = utcnow()
    db.session.commit()
    return secret


def test_a_database_that_takes_no_writes_lets_reads_through_uncounted(file_app: Flask, caplog):
    secret = _token_used_just_now(Factory().user("alice@example.com"))
    _read_only(file_app)
    response = file_app.test_client().get(f"{API}/notes", headers=bearer(secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "RateLimit" not in response.headers
    assert any("not counted against its rate limits" in r.getMessage() for r in caplog.records)


def test_any_other_database_error_while_counting_is_not_hidden(app: Flask, client, alice_secret, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    db.session.execute(sa.text("DROP TABLE api_rate_windows"))  # a migration not run
    db.session.commit()
    try:
        assert_problem(client.get(f"{API}/notes", headers=bearer(alice_secret)), 500)
    finally:
        ApiRateWindow.__table__.create(db.engine)
