"""The account page's "Recent security activity": what happened to one's own
account (logins, failed logins, password and token changes, an
administrator's actions), newest first, and nothing about anyone else."""

from __future__ import annotations

import re

from tests.helpers.admin import make_admin
from tests.helpers.data import PASSWORD

from app.accounts import admin
from app.models import ApiToken, db

ALICE_IP = "203.0.113.5"
BOB_IP = "192.0.2.99"
NEW_PASSWORD = "a brand new password"


def _activity(html: str) -> list[list[str]]:
    """The rows of the activity table: [when, what, by, from, details]."""
    section = re.search(r'<h2 id="activity-h">.*?</section>', html, re.S)
    assert section, html
    rows = re.findall(r"<tr>(.*?)</tr>", section.group(0), re.S)
    cells = [re.findall(r"<td>([^<]*)</td>", row) for row in rows]
    return [row for row in cells if row]


def test_the_account_page_lists_the_users_own_security_events(app, client, user, factory):
    bob = factory.user("bob@example.com")
    client.environ_base["REMOTE_ADDR"] = ALICE_IP
    assert client.post("/auth/login", data={"email": user.email, "password": "wrong"}).status_code == 401
    assert client.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    form = {"name": "laptop", "scope": "read", "expires_in_days": "", "password": PASSWORD}
    assert client.post("/account/tokens", data=form).status_code == 201
    token_id = db.session.query(ApiToken.id).scalar()
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert client.post("/account/password", data=form).status_code == 302
    # Bob's doings, from elsewhere, are his own.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = BOB_IP
    other.post("/auth/login", data={"email": bob.email, "password": "wrong"})
    other.post("/auth/login", data={"email": bob.email, "password": PASSWORD})
    other.post("/account/tokens", data={"name": "bob's", "scope": "read", "password": PASSWORD})
    # A failed login for an address nobody has belongs to nobody.
    other.post("/auth/login", data={"email": "ghost@example.com", "password": "wrong"})

    html = client.get("/account/").get_data(as_text=True)
    rows = _activity(html)
    assert [row[1:] for row in rows] == [
        ["Password changed", "you", ALICE_IP, "0 other sessions ended"],
        ["API token revoked", "you", ALICE_IP, "laptop"],
        ["API token created", "you", ALICE_IP, "laptop (read)"],
        ["Logged in", "—", ALICE_IP, ""],
        ["Failed login", "—", ALICE_IP, ""],
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row[0]) for row in rows)
    assert BOB_IP not in html
    assert "bob" not in html and "ghost@example.com" not in html


def test_an_administrators_action_shows_who_did_it(client, logged_in, factory):
    boss = make_admin(factory.user("boss@example.com"))
    admin.revoke_access(logged_in, actor=boss, ip="198.51.100.7")
    # That ended alice's session: log in again to read the page.
    client.post("/auth/login", data={"email": logged_in.email, "password": PASSWORD})
    rows = _activity(client.get("/account/").get_data(as_text=True))
    assert rows[1][1:] == [
        "Every session and API token ended",
        "boss@example.com",
        "198.51.100.7",
        "1 sessions, 0 tokens ended",
    ]


def test_an_administrators_page_does_not_list_what_they_did_to_others(client, factory, user):
    boss = make_admin(factory.user("boss@example.com"))
    client.post("/auth/login", data={"email": boss.email, "password": PASSWORD})
    assert client.post(f"/admin/users/{user.id}/disable", follow_redirects=True).status_code == 200
    rows = _activity(client.get("/account/").get_data(as_text=True))
    assert rows == [[rows[0][0], "Logged in", "—", "127.0.0.1", ""]]


def test_a_new_account_has_its_sign_up_and_nothing_else(client):
    client.post("/auth/register", data={"email": "new@example.com", "password": PASSWORD, "confirm": PASSWORD})
    html = client.get("/account/").get_data(as_text=True)
    assert [row[1] for row in _activity(html)] == ["Account created by signing up"]
