"""/api/v1/sessions: the account page's list of login sessions, for programs
and for the browser's own cookie calls."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from tests.helpers.api import API, assert_problem
from tests.helpers.data import PASSWORD, Factory
from tests.helpers.web import bearer, csrf_token_from

from app.models import AuditEvent, LoginSession, User, db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Mobile/15E148 Safari/604.1"
)


def browser(app: Flask, user_agent: str, ip: str, email: str = "alice@example.com") -> FlaskClient:
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": ip})
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def ids(user: User) -> dict[str | None, int]:
    """The user's session ids by User-Agent, as stored now."""
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(LoginSession.user_agent, LoginSession.id).where(LoginSession.user_id == user.id)
    )
    return {agent: session_id for agent, session_id in rows}


def logged_in(client: FlaskClient) -> bool:
    return client.get(f"{API}/notes").status_code == 200


def actions(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == name)))


@pytest.fixture
def two_browsers(app: Flask, user: User) -> tuple[FlaskClient, FlaskClient]:
    """alice on a laptop and on a phone."""
    return browser(app, FIREFOX, "192.0.2.10"), browser(app, IPHONE, "198.51.100.4")


def test_a_cookie_call_lists_the_sessions_and_marks_its_own(two_browsers):
    laptop, _ = two_browsers
    response = laptop.get(f"{API}/sessions")
    assert response.status_code == 200
    items = sorted(response.get_json()["items"], key=lambda s: s["device"])
    assert [(s["device"], s["ip"], s["user_agent"], s["current"], s["remember"]) for s in items] == [
        ("Firefox on Linux", "192.0.2.10", FIREFOX, True, False),
        ("Safari on iPhone", "198.51.100.4", IPHONE, False, False),
    ]
    assert set(items[0]) == {"id", "device", "user_agent", "ip", "created_at", "last_seen_at", "remember", "current"}
    assert items[0]["created_at"].endswith("+00:00")


def test_a_token_call_lists_them_with_none_current(client, two_browsers, headers):
    items = client.get(f"{API}/sessions", headers=headers).get_json()["items"]
    assert len(items) == 2 and not any(s["current"] for s in items)


def test_only_your_own_sessions_are_listed(app, two_browsers, factory):
    factory.user("bob@example.com")
    bob = browser(app, FIREFOX, "203.0.113.9", email="bob@example.com")
    assert [s["ip"] for s in bob.get(f"{API}/sessions").get_json()["items"]] == ["203.0.113.9"]


def test_delete_ends_one_session_at_once(two_browsers, user):
    laptop, phone = two_browsers
    response = laptop.delete(f"{API}/sessions/{ids(user)[IPHONE]}")
    assert response.status_code == 204 and response.data == b""
    assert_problem(phone.get(f"{API}/notes"), 401)
    assert logged_in(laptop)
    assert list(ids(user)) == [FIREFOX]
    (event,) = actions("session_ended")
    assert (event.ip, event.detail) == ("192.0.2.10", "Safari on iPhone, from 198.51.100.4")


def test_a_token_may_end_any_session_of_its_owner(client, two_browsers, user, headers):
    laptop, _ = two_browsers
    assert client.delete(f"{API}/sessions/{ids(user)[FIREFOX]}", headers=headers).status_code == 204
    assert not logged_in(laptop)


def test_another_users_session_is_404_and_stays(app, two_browsers, factory, headers, client):
    bob = factory.user("bob@example.com")
    bobs_browser = browser(app, FIREFOX, "203.0.113.9", email="bob@example.com")
    laptop, _ = two_browsers
    bobs = ids(bob)[FIREFOX]
    for response in (laptop.delete(f"{API}/sessions/{bobs}"), client.delete(f"{API}/sessions/{bobs}", headers=headers)):
        assert assert_problem(response, 404)["detail"] == "No such session."
    assert logged_in(bobs_browser)
    assert actions("session_ended") == []


@pytest.mark.parametrize("session", ["999999", "0", "9223372036854775808"])
def test_an_unknown_session_is_404(client, user, headers, session):
    assert_problem(client.delete(f"{API}/sessions/{session}", headers=headers), 404)


def test_a_cookie_call_cannot_end_its_own_session_this_way(two_browsers, user):
    laptop, _ = two_browsers
    body = assert_problem(laptop.delete(f"{API}/sessions/{ids(user)[FIREFOX]}"), 409)
    assert body["detail"] == "This is the session you are using now; log out instead."
    assert logged_in(laptop)
    assert len(ids(user)) == 2


def test_end_others_from_a_cookie_call_keeps_that_session(app, two_browsers, user):
    laptop, phone = two_browsers
    third = browser(app, "curl/8.5.0", "192.0.2.99")
    response = laptop.post(f"{API}/sessions/end-others")
    assert response.status_code == 200
    assert response.get_json() == {"sessions_ended": 2}
    assert logged_in(laptop) and not logged_in(phone) and not logged_in(third)
    (event,) = actions("other_sessions_ended")
    assert event.detail == "2 sessions"


def test_end_others_from_a_token_ends_every_session(client, two_browsers, user, headers):
    laptop, phone = two_browsers
    response = client.post(f"{API}/sessions/end-others", headers=headers)
    assert response.get_json() == {"sessions_ended": 2}
    assert not logged_in(laptop) and not logged_in(phone)
    assert client.get(f"{API}/sessions", headers=headers).get_json() == {"items": []}


def test_a_read_only_token_lists_but_ends_nothing(client, two_browsers, user):
    _, secret = Factory().token(user, scope="read")
    assert client.get(f"{API}/sessions", headers=bearer(secret)).status_code == 200
    assert_problem(client.delete(f"{API}/sessions/{ids(user)[IPHONE]}", headers=bearer(secret)), 403)
    assert_problem(client.post(f"{API}/sessions/end-others", headers=bearer(secret)), 403)
    assert len(ids(user)) == 2


def test_end_others_takes_no_body(client, user, headers):
    response = client.post(f"{API}/sessions/end-others", headers=headers, data="x", content_type="text/plain")
    assert_problem(response, 415)


def test_cookie_calls_that_end_sessions_need_the_csrf_token(csrf_app):
    Factory().user("alice@example.com")
    laptop, phone = csrf_app.test_client(), csrf_app.test_client()
    for client, agent in ((laptop, FIREFOX), (phone, IPHONE)):
        client.environ_base["HTTP_USER_AGENT"] = agent
        token = csrf_token_from(client, "/auth/login")
        client.post("/auth/login", data={"email": "alice@example.com", "password": PASSWORD, "csrf_token": token})
    alice = User.query.filter_by(email="alice@example.com").one()
    phone_id = ids(alice)[IPHONE]

    for response in (laptop.delete(f"{API}/sessions/{phone_id}"), laptop.post(f"{API}/sessions/end-others")):
        assert "CSRF" in assert_problem(response, 400)["detail"]
    assert logged_in(phone) and len(ids(alice)) == 2

    token = csrf_token_from(laptop, "/notes/")
    assert laptop.delete(f"{API}/sessions/{phone_id}", headers={"X-CSRFToken": token}).status_code == 204
    assert not logged_in(phone)
