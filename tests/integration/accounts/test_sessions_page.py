"""The account page's list of login sessions: where you are logged in, ending
one of them, and "Log out everywhere else". Every client below is its own
browser with its own cookie."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from tests.helpers.data import PASSWORD, Factory
from tests.helpers.web import csrf_token_from

from app.models import AuditEvent, LoginSession, User, db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Mobile/15E148 Safari/604.1"
)
WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


def browser(app: Flask, user_agent: str, ip: str, email: str = "alice@example.com") -> FlaskClient:
    """A new client logged in as ``email`` from the browser ``user_agent`` at ``ip``."""
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": ip})
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def session_rows(user: User) -> list[LoginSession]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(LoginSession).where(LoginSession.user_id == user.id)))


def session_id(user: User, user_agent: str) -> int:
    return next(row.id for row in session_rows(user) if row.user_agent == user_agent)


def logged_in(client: FlaskClient) -> bool:
    return client.get("/notes/").status_code == 200


def actions(name: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == name)))


@pytest.fixture
def alice(app: Flask) -> User:
    return Factory().user("alice@example.com")


def test_the_page_lists_every_session_with_device_address_and_this_browser_marked(app, alice):
    laptop = browser(app, FIREFOX, "192.0.2.10")
    browser(app, IPHONE, "2001:db8::7")
    page = laptop.get("/account/").get_data(as_text=True)
    table = page[page.index('<table id="sessions">') : page.index("</table>", page.index('<table id="sessions">'))]
    rows = re.findall(r"<tr(?: class=\"current\")?>.*?</tr>", table, re.S)[1:]
    assert len(rows) == 2
    (mine,) = [row for row in rows if "This browser" in row]
    assert "Firefox on Linux" in mine and "192.0.2.10" in mine
    assert "End the session" not in mine  # this one ends by logging out
    (phone,) = [row for row in rows if "Safari on iPhone" in row]
    assert "2001:db8::7" in phone and "End the session on Safari on iPhone from 2001:db8::7" in phone
    assert "Log out everywhere else" in page


def test_the_raw_user_agent_is_kept_short_and_shown_escaped(app, alice):
    client = browser(app, '<script>alert("ua")</script>' + "x" * 1000, "192.0.2.10")
    (row,) = session_rows(alice)
    assert row.user_agent is not None and len(row.user_agent) == 255
    page = client.get("/account/").get_data(as_text=True)
    assert '<script>alert("ua")' not in page
    assert "Unknown device" in page


def test_alone_there_is_nothing_else_to_log_out(app, alice):
    page = browser(app, FIREFOX, "192.0.2.10").get("/account/").get_data(as_text=True)
    assert "You are not logged in anywhere else." in page
    assert "Log out everywhere else" not in page


def test_ending_another_session_logs_that_browser_out_at_its_next_request(app, alice):
    laptop = browser(app, FIREFOX, "192.0.2.10")
    phone = browser(app, IPHONE, "198.51.100.4")
    assert logged_in(phone)

    response = laptop.post(f"/account/sessions/{session_id(alice, IPHONE)}/end")

    assert response.status_code == 302 and response.headers["Location"] == "/account/"
    assert "Session ended: Safari on iPhone." in laptop.get("/account/").get_data(as_text=True)
    answer = phone.get("/notes/")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/auth/login")
    assert logged_in(laptop)
    assert [row.user_agent for row in session_rows(alice)] == [FIREFOX]
    (event,) = actions("session_ended")
    assert (event.actor_id, event.ip, event.detail) == (alice.id, "192.0.2.10", "Safari on iPhone, from 198.51.100.4")
    assert "A login session ended by its owner" in laptop.get("/account/").get_data(as_text=True)


def test_a_remember_me_session_ends_too(app, alice):
    laptop = browser(app, FIREFOX, "192.0.2.10")
    phone = app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = IPHONE
    phone.post("/auth/login", data={"email": alice.email, "password": PASSWORD, "remember": "y"})
    laptop.post(f"/account/sessions/{session_id(alice, IPHONE)}/end")
    phone.delete_cookie("session")  # the remember-me cookie alone must not bring it back
    assert not logged_in(phone)


def test_another_users_session_is_404_and_nothing_changes(app, alice):
    Factory().user("bob@example.com")
    bob = browser(app, WINDOWS, "203.0.113.9", email="bob@example.com")
    mallory = browser(app, FIREFOX, "192.0.2.10")  # alice, trying bob's session
    bobs = session_id(User.query.filter_by(email="bob@example.com").one(), WINDOWS)

    response = mallory.post(f"/account/sessions/{bobs}/end")

    assert response.status_code == 404
    assert "No such session." in response.get_data(as_text=True)
    assert logged_in(bob)
    assert actions("session_ended") == []


@pytest.mark.parametrize("session", ["999999", "0", "9223372036854775808"])
def test_an_unknown_session_is_404(app, alice, session):
    client = browser(app, FIREFOX, "192.0.2.10")
    assert client.post(f"/account/sessions/{session}/end").status_code == 404
    assert len(session_rows(alice)) == 1


def test_the_current_session_is_refused_here_and_stays(app, alice):
    client = browser(app, FIREFOX, "192.0.2.10")
    response = client.post(f"/account/sessions/{session_id(alice, FIREFOX)}/end")
    assert response.status_code == 409
    assert "This is the session you are using now; log out instead." in response.get_data(as_text=True)
    assert logged_in(client)
    assert actions("session_ended") == []


def test_log_out_everywhere_else_keeps_only_this_browser(app, alice):
    laptop = browser(app, FIREFOX, "192.0.2.10")
    others = [browser(app, IPHONE, "198.51.100.4"), browser(app, WINDOWS, "203.0.113.9")]
    Factory().user("bob@example.com")
    bob = browser(app, WINDOWS, "203.0.113.9", email="bob@example.com")

    response = laptop.post("/account/sessions/end-others")

    assert response.status_code == 302
    assert "Logged out everywhere else (2 sessions ended)." in laptop.get("/account/").get_data(as_text=True)
    assert [logged_in(other) for other in others] == [False, False]
    assert logged_in(laptop) and logged_in(bob)
    (event,) = actions("other_sessions_ended")
    assert (event.target_id, event.detail, event.ip) == (alice.id, "2 sessions", "192.0.2.10")


def test_the_session_routes_need_a_login(client, alice):
    for url in ("/account/sessions/1/end", "/account/sessions/end-others"):
        response = client.post(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login")


def test_without_the_csrf_token_nothing_is_ended(csrf_app):
    """A forged POST from another site carries the cookie but not the token."""
    Factory().user("alice@example.com")
    laptop, phone = csrf_app.test_client(), csrf_app.test_client()
    for client, agent in ((laptop, FIREFOX), (phone, IPHONE)):
        client.environ_base["HTTP_USER_AGENT"] = agent
        token = csrf_token_from(client, "/auth/login")
        client.post("/auth/login", data={"email": "alice@example.com", "password": PASSWORD, "csrf_token": token})
    alice = User.query.filter_by(email="alice@example.com").one()
    phone_id = session_id(alice, IPHONE)

    for url in (f"/account/sessions/{phone_id}/end", "/account/sessions/end-others"):
        for data in ({}, {"csrf_token": "forged"}):
            assert laptop.post(url, data=data).status_code == 400

    assert logged_in(phone) and logged_in(laptop)
    assert len(session_rows(alice)) == 2
    assert actions("session_ended") == actions("other_sessions_ended") == []
    # With the page's token it works.
    token = csrf_token_from(laptop, "/account/")
    assert laptop.post(f"/account/sessions/{phone_id}/end", data={"csrf_token": token}).status_code == 302
    assert not logged_in(phone)
