"""/admin/users and its actions: only administrators get in, every action does
what its button says and is audited, and the last enabled administrator stays."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from tests.helpers.admin import account_state, audit_events, fresh_user, make_admin
from tests.helpers.api import fresh_token
from tests.helpers.data import PASSWORD, Factory
from tests.helpers.web import csrf_token_from

from app.accounts.invites import create_invite
from app.models import Invite, LoginSession, Note, User, db

from .conftest import BOSS_IP

ACTIONS = ("disable", "enable", "revoke", "promote", "demote")
# Every admin route; {user} is bob's id and {invite} an unused invitation's.
ROUTES = [
    ("GET", "/admin/"),
    ("GET", "/admin/users"),
    ("GET", "/admin/audit"),
    ("GET", "/admin/users/{user}/delete"),
    ("POST", "/admin/users/{user}/delete"),
    ("POST", "/admin/invites"),
    ("POST", "/admin/invites/{invite}/withdraw"),
    *(("POST", f"/admin/users/{{user}}/{action}") for action in ACTIONS),
]
ROUTE_IDS = [f"{method} {path}" for method, path in ROUTES]
# What each POST carries when it is meant: bob's email to confirm, an invitation's lifetime.
FORMS = {"/admin/users/{user}/delete": {"email": "bob@example.com"}, "/admin/invites": {"days": "7"}}


def _sessions(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(LoginSession.user_id == user.id)) or 0


def _flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+">([^<]*)</p>', html)


# --- who gets in -------------------------------------------------------------


@pytest.mark.parametrize(("method", "pattern"), ROUTES, ids=ROUTE_IDS)
def test_a_user_who_is_not_an_administrator_is_refused_everywhere(client, logged_in, bob, method, pattern):
    create_invite(None)
    invite_id = db.session.scalar(sa.select(Invite.id))
    before = account_state()
    url = pattern.format(user=bob.id, invite=invite_id)
    response = client.open(url, method=method, data=FORMS.get(pattern, {}))
    assert response.status_code == 403, url
    assert "Only administrators of this server can see this page." in response.get_data(as_text=True)
    assert account_state() == before


@pytest.mark.parametrize(("method", "pattern"), ROUTES, ids=ROUTE_IDS)
def test_an_anonymous_visitor_is_sent_to_log_in(client, bob, method, pattern):
    create_invite(None)
    invite_id = db.session.scalar(sa.select(Invite.id))
    before = account_state()
    url = pattern.format(user=bob.id, invite=invite_id)
    response = client.open(url, method=method, data=FORMS.get(pattern, {}))
    assert response.status_code == 302, url
    assert response.headers["Location"].startswith("/auth/login?next=")
    assert account_state() == before


def test_a_disabled_administrators_old_session_gets_nowhere(app, client, as_boss, factory):
    carol = make_admin(factory.user("carol@example.com"))
    other = app.test_client()
    other.post("/auth/login", data={"email": carol.email, "password": PASSWORD})
    assert client.post(f"/admin/users/{carol.id}/disable").status_code == 302
    response = other.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_only_administrators_see_the_admin_link(app, client, auth, as_boss, bob):
    assert b'href="/admin/users"' in client.get("/notes/").data
    bob_client = app.test_client()
    bob_client.post("/auth/login", data={"email": bob.email, "password": PASSWORD})
    assert b'href="/admin/users"' not in bob_client.get("/notes/").data


# --- the accounts page -------------------------------------------------------


def test_the_accounts_page_lists_every_account_with_its_state(client, as_boss, bob, factory):
    Factory().note(bob)
    Factory().note(bob)
    carol = factory.user("carol@example.com")
    carol.disabled_at = carol.created_at
    db.session.commit()
    response = client.get("/admin/users")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    row = re.search(rf'<tr id="account-{bob.id}"[^>]*>(.*?)</tr>', html, re.S)
    assert row, html
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))
    assert cells[:5] == ["bob@example.com", "user", "active", "off", "2"]  # ..., two-factor login, notes
    assert f'<tr id="account-{carol.id}" class="disabled">' in html
    assert 'aria-label="Enable carol@example.com"' in html
    assert 'aria-label="Disable bob@example.com"' in html
    assert 'boss@example.com <span class="muted">(you)</span>' in html


def test_admin_root_redirects_to_the_accounts_page(client, as_boss):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users"


# --- each action, audited ----------------------------------------------------


def _assert_audited(action: str, target: User) -> None:
    (event,) = audit_events(action)
    assert (event.actor_email, event.target_email, event.ip) == ("boss@example.com", target.email, BOSS_IP)
    assert event.actor_id is not None
    assert event.target_id == target.id


def test_disable_logs_the_account_out_revokes_its_tokens_and_is_audited(app, client, as_boss, bob):
    bob_client = app.test_client()
    bob_client.post("/auth/login", data={"email": bob.email, "password": PASSWORD})
    token, _ = Factory().token(bob)
    response = client.post(f"/admin/users/{bob.id}/disable", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == "/admin/users"
    assert _flashes(response.get_data(as_text=True)) == [
        "bob@example.com is disabled: logged out everywhere, tokens revoked, no more logins."
    ]
    assert fresh_user(bob.id).is_disabled
    assert _sessions(bob) == 0
    assert fresh_token(token.id).revoked
    _assert_audited("account_disabled", bob)


def test_a_user_disabled_while_logged_in_elsewhere_is_out_at_the_next_request(app, client, as_boss, bob):
    laptop = app.test_client()
    assert laptop.post("/auth/login", data={"email": bob.email, "password": PASSWORD}).status_code == 302
    assert laptop.get("/notes/").status_code == 200
    assert client.post(f"/admin/users/{bob.id}/disable").status_code == 302
    response = laptop.get("/notes/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=%2Fnotes%2F"
    # And it cannot come back.
    response = laptop.post("/auth/login", data={"email": bob.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "This account has been disabled by an administrator" in response.get_data(as_text=True)
    assert laptop.get("/notes/").status_code == 302


def test_enable_lets_the_account_log_in_again_and_is_audited(app, client, as_boss, bob):
    client.post(f"/admin/users/{bob.id}/disable", follow_redirects=True)
    response = client.post(f"/admin/users/{bob.id}/enable", follow_redirects=True)
    assert _flashes(response.get_data(as_text=True)) == ["bob@example.com can log in again."]
    assert not fresh_user(bob.id).is_disabled
    _assert_audited("account_enabled", bob)
    bob_client = app.test_client()
    assert bob_client.post("/auth/login", data={"email": bob.email, "password": PASSWORD}).status_code == 302


def test_revoke_ends_every_session_and_token_but_the_account_stays_usable(app, client, as_boss, bob):
    laptop = app.test_client()
    laptop.post("/auth/login", data={"email": bob.email, "password": PASSWORD})
    token, _ = Factory().token(bob)
    response = client.post(f"/admin/users/{bob.id}/revoke", follow_redirects=True)
    assert _flashes(response.get_data(as_text=True)) == [
        "Every session of bob@example.com has ended and every token is revoked."
    ]
    assert laptop.get("/notes/").status_code == 302
    assert fresh_token(token.id).revoked
    assert not fresh_user(bob.id).is_disabled
    _assert_audited("access_revoked", bob)
    assert laptop.post("/auth/login", data={"email": bob.email, "password": PASSWORD}).status_code == 302


def test_promote_and_demote_are_audited(app, client, as_boss, bob):
    response = client.post(f"/admin/users/{bob.id}/promote", follow_redirects=True)
    assert _flashes(response.get_data(as_text=True)) == ["bob@example.com is now an administrator."]
    assert fresh_user(bob.id).is_admin
    _assert_audited("admin_granted", bob)
    bob_client = app.test_client()
    bob_client.post("/auth/login", data={"email": bob.email, "password": PASSWORD})
    assert bob_client.get("/admin/users").status_code == 200

    response = client.post(f"/admin/users/{bob.id}/demote", follow_redirects=True)
    assert _flashes(response.get_data(as_text=True)) == ["bob@example.com is no longer an administrator."]
    assert not fresh_user(bob.id).is_admin
    _assert_audited("admin_revoked", bob)
    assert bob_client.get("/admin/users").status_code == 403


def test_an_administrator_who_steps_down_lands_on_a_page_they_may_see(client, as_boss, factory):
    make_admin(factory.user("carol@example.com"))
    response = client.post(f"/admin/users/{as_boss.id}/demote")
    assert response.status_code == 302
    assert response.headers["Location"] == "/notes/"
    page = client.get("/notes/").get_data(as_text=True)
    assert "boss@example.com is no longer an administrator." in page
    assert not fresh_user(as_boss.id).is_admin


def test_an_administrator_who_disables_themself_is_logged_out(client, as_boss, factory):
    make_admin(factory.user("carol@example.com"))
    response = client.post(f"/admin/users/{as_boss.id}/disable")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert fresh_user(as_boss.id).is_disabled
    assert client.get("/notes/").status_code == 302


def test_an_administrator_who_ends_their_own_sessions_is_logged_out(client, as_boss):
    # The last administrator may do this: they can log in again at once.
    response = client.post(f"/admin/users/{as_boss.id}/revoke")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert client.get("/notes/").status_code == 302
    assert not fresh_user(as_boss.id).is_disabled
    assert client.post("/auth/login", data={"email": "boss@example.com", "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize("action", ["delete-me", "DISABLE", "purge"])
def test_an_unknown_action_is_404_and_changes_nothing(client, as_boss, bob, action):
    before = account_state()
    assert client.post(f"/admin/users/{bob.id}/{action}").status_code == 404
    assert account_state() == before


@pytest.mark.parametrize("user_id", [999, 0, 2**63, 2**70])
@pytest.mark.parametrize("action", ACTIONS)
def test_an_unknown_account_is_404_and_changes_nothing(client, as_boss, bob, action, user_id):
    before = account_state()
    response = client.post(f"/admin/users/{user_id}/{action}")
    assert response.status_code == 404
    assert "No such account." in response.get_data(as_text=True)
    assert account_state() == before


# --- the last administrator --------------------------------------------------


@pytest.mark.parametrize("action", ["demote", "disable"])
def test_the_last_administrator_cannot_be_demoted_or_disabled(client, as_boss, bob, action):
    before = account_state()
    response = client.post(f"/admin/users/{as_boss.id}/{action}")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert _flashes(html) == [
        "boss@example.com is the last administrator who can log in; make another account an administrator "
        "first, so that somebody can still manage this server."
    ]
    assert "Everyone with an account" in html  # the accounts page, with the message
    assert account_state() == before
    assert client.get("/admin/users").status_code == 200  # still an administrator, still logged in


def test_a_disabled_administrator_does_not_count_as_another(client, as_boss, factory):
    carol = make_admin(factory.user("carol@example.com"))
    assert client.post(f"/admin/users/{carol.id}/disable").status_code == 302
    before = account_state()
    assert client.post(f"/admin/users/{as_boss.id}/demote").status_code == 409
    assert account_state() == before


def test_the_last_administrator_cannot_be_deleted(client, as_boss):
    before = account_state()
    response = client.post(f"/admin/users/{as_boss.id}/delete", data={"email": "boss@example.com"})
    assert response.status_code == 409
    assert "boss@example.com is the last administrator who can log in" in response.get_data(as_text=True)
    assert account_state() == before


# --- deleting an account -----------------------------------------------------


def test_the_delete_page_asks_for_the_accounts_email(client, as_boss, bob):
    response = client.get(f"/admin/users/{bob.id}/delete")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Delete bob@example.com?</h1>" in html
    assert "Type the account&#39;s email to confirm" in html or "Type the account's email to confirm" in html


def test_delete_with_the_typed_email_deletes_the_account_and_its_notes(client, as_boss, bob):
    note_id = Factory().note(bob).id
    bob_id = bob.id
    response = client.post(f"/admin/users/{bob_id}/delete", data={"email": "  BOB@example.com "})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users"
    assert fresh_user(bob_id) is None
    assert db.session.scalar(sa.select(sa.func.count()).where(Note.id == note_id)) == 0
    (event,) = audit_events("account_deleted")
    assert (event.actor_email, event.target_email, event.ip) == ("boss@example.com", "bob@example.com", BOSS_IP)
    assert event.detail == "by an administrator"
    assert "bob@example.com and all its notes are deleted." in client.get("/admin/users").get_data(as_text=True)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("alice@example.com", "That is not bob@example.com; nothing was deleted."),
        ("bob@example.co", "That is not bob@example.com; nothing was deleted."),
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("b" * 300, "Field cannot be longer than 254 characters."),
    ],
    ids=["another-email", "almost", "empty", "blank", "too-long"],
)
def test_delete_with_a_wrong_email_is_400_and_deletes_nothing(client, as_boss, bob, typed, message):
    Factory().note(bob)
    before = account_state()
    response = client.post(f"/admin/users/{bob.id}/delete", data={"email": typed})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'aria-invalid="true"' in html
    assert account_state() == before


def test_deleting_an_unknown_account_is_404(client, as_boss):
    before = account_state()
    assert client.get("/admin/users/999/delete").status_code == 404
    assert client.post("/admin/users/999/delete", data={"email": "x@example.com"}).status_code == 404
    assert account_state() == before


def test_an_administrator_who_deletes_their_own_account_is_logged_out(client, as_boss, factory):
    make_admin(factory.user("carol@example.com"))
    boss_id = as_boss.id
    response = client.post(f"/admin/users/{boss_id}/delete", data={"email": "boss@example.com"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert fresh_user(boss_id) is None
    assert client.get("/notes/").status_code == 302


# --- CSRF ----------------------------------------------------------------------


@pytest.mark.parametrize(("method", "pattern"), [r for r in ROUTES if r[0] == "POST"], ids=ROUTE_IDS[4:])
def test_with_csrf_on_a_post_without_its_token_is_refused_and_changes_nothing(csrf_app: Flask, method, pattern):
    factory = Factory()
    make_admin(factory.user("boss@example.com"))
    make_admin(factory.user("carol@example.com"))  # so that no action is refused as the last admin's
    bob = factory.user("bob@example.com")
    if pattern.endswith("/enable"):
        bob.disabled_at = bob.created_at
    if pattern.endswith("/demote"):
        bob.is_admin = True
    db.session.commit()
    create_invite(None)
    invite_id = db.session.scalar(sa.select(Invite.id))
    client = csrf_app.test_client()
    token = csrf_token_from(client, "/auth/login")
    response = client.post("/auth/login", data={"email": "boss@example.com", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    before = account_state()
    url = pattern.format(user=bob.id, invite=invite_id)
    response = client.post(url, data=FORMS.get(pattern, {}))
    assert response.status_code == 400, url
    assert "The CSRF token is missing." in response.get_data(as_text=True)
    assert account_state() == before
    # The same request with the page's token goes through.
    response = client.post(url, data={**FORMS.get(pattern, {}), "csrf_token": csrf_token_from(client, "/admin/users")})
    assert response.status_code in (201, 302), url
    assert account_state() != before
