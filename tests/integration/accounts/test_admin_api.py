"""/api/v1/admin: the admin pages' actions for an administrator's admin-scope token, and nobody else."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.helpers.api import API, assert_problem, count
from tests.helpers.data import PASSWORD, Factory
from tests.helpers.web import bearer

from app.accounts.sessions import start_session
from app.models import ApiToken, AuditEvent, Invite, LoginSession, User, db


@pytest.fixture
def boss(app) -> User:
    user = Factory().user("boss@example.com")
    user.is_admin = True
    db.session.commit()
    return user


@pytest.fixture
def admin_headers(boss) -> dict[str, str]:
    _, secret = Factory().token(boss, scope="admin")
    return bearer(secret)


def test_lists_accounts(client, boss, admin_headers, user):
    Factory().note(user)
    body = client.get(f"{API}/admin/users", headers=admin_headers).get_json()
    by_email = {item["email"]: item for item in body["items"]}
    assert by_email["alice@example.com"]["notes"] == 1
    assert by_email["alice@example.com"]["is_admin"] is False
    assert by_email["boss@example.com"]["is_admin"] is True
    assert by_email["boss@example.com"]["last_seen_at"] is not None  # this very call used the token
    assert set(by_email["alice@example.com"]) == {
        "id", "email", "is_admin", "disabled", "two_factor", "created_at", "last_seen_at", "notes",
    }  # fmt: skip
    assert by_email["alice@example.com"]["two_factor"] is False


def test_one_account_reads_as_its_row_of_the_list(client, boss, admin_headers, user, authenticator):
    """GET /admin/users/{id} answers with the list's item for that account, note count,
    last seen and two-factor included, while the other accounts have rows of their own."""
    authenticator.enable(user)
    Factory().note(user)
    start_session(user, remember=False)
    Factory().user("bob@example.com")
    items = client.get(f"{API}/admin/users", headers=admin_headers).get_json()["items"]
    assert [(item["notes"], item["two_factor"], item["last_seen_at"] is not None) for item in items] == [
        (0, False, True),  # boss, by this token
        (1, True, True),  # alice
        (0, False, False),  # bob
    ]
    for item in items:
        assert client.get(f"{API}/admin/users/{item['id']}", headers=admin_headers).get_json() == item


@pytest.mark.parametrize("scope", ["read", "write"])
def test_an_administrators_token_without_the_admin_scope_is_403(client, boss, scope):
    _, secret = Factory().token(boss, scope=scope)
    body = assert_problem(client.get(f"{API}/admin/users", headers=bearer(secret)), 403)
    assert "admin scope" in body["detail"]
    assert_problem(client.post(f"{API}/admin/invites", json={}, headers=bearer(secret)), 403)
    assert count(Invite) == 0


def test_a_browser_session_cannot_use_the_admin_api(client, auth, boss):
    auth.login("boss@example.com", PASSWORD)
    assert_problem(client.get(f"{API}/admin/users"), 403)


def test_an_admin_token_of_someone_demoted_stops_at_once(client, boss, admin_headers):
    # Demoted behind the service's back: the role is checked on every call, not just the scope.
    boss.is_admin = False
    db.session.commit()
    assert_problem(client.get(f"{API}/admin/users", headers=admin_headers), 403)


def test_an_admin_token_changes_no_notes(client, boss, admin_headers):
    assert client.get(f"{API}/notes", headers=admin_headers).status_code == 200
    body = assert_problem(client.post(f"{API}/notes", json={"title": "x"}, headers=admin_headers), 403)
    assert "only manages accounts" in body["detail"]


def test_disable_enable_promote_demote_and_revoke(client, boss, admin_headers, user):
    start_session(user, remember=False)
    Factory().token(user)
    url = f"{API}/admin/users/{user.id}"
    assert client.post(f"{url}/disable", headers=admin_headers).get_json()["disabled"] is True
    assert count(LoginSession) == 0
    assert client.post(f"{url}/enable", headers=admin_headers).get_json()["disabled"] is False
    assert client.post(f"{url}/promote", headers=admin_headers).get_json()["is_admin"] is True
    assert client.post(f"{url}/demote", headers=admin_headers).get_json()["is_admin"] is False
    start_session(user, remember=False)
    assert client.post(f"{url}/revoke-access", headers=admin_headers).get_json() == {
        "sessions_ended": 1,
        "tokens_revoked": 0,  # already revoked when the account was disabled
    }
    actions = list(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.target_id == user.id)))
    assert actions[-5:] == ["account_disabled", "account_enabled", "admin_granted", "admin_revoked", "access_revoked"]
    assert {e.actor_email for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.target_id == user.id))
            if e.action != "token_created"} == {"boss@example.com"}  # fmt: skip


@pytest.mark.parametrize("action", ["disable", "demote"])
def test_the_last_administrator_is_409_and_unchanged(client, boss, admin_headers, action):
    body = assert_problem(client.post(f"{API}/admin/users/{boss.id}/{action}", headers=admin_headers), 409)
    assert "last administrator" in body["detail"]
    db.session.expire_all()
    assert boss.is_admin and not boss.is_disabled


def test_deleting_the_last_administrator_is_409(client, boss, admin_headers):
    assert_problem(client.delete(f"{API}/admin/users/{boss.id}", headers=admin_headers), 409)
    assert db.session.get(User, boss.id) is not None


def test_delete_an_account(client, boss, admin_headers, user):
    assert client.delete(f"{API}/admin/users/{user.id}", headers=admin_headers).status_code == 204
    assert db.session.get(User, user.id) is None
    assert_problem(client.delete(f"{API}/admin/users/{user.id}", headers=admin_headers), 404)


@pytest.mark.parametrize("path", ["/admin/users/999", "/admin/users/999/disable", "/admin/users/999/revoke-access"])
def test_an_unknown_account_is_404(client, admin_headers, path):
    method = client.get if path.endswith("999") else client.post
    assert_problem(method(f"{API}{path}", headers=admin_headers), 404)


def test_invitations_create_list_and_withdraw(client, boss, admin_headers):
    created = client.post(f"{API}/admin/invites", json={"note": "for Mum", "days": 2}, headers=admin_headers)
    assert created.status_code == 201
    body = created.get_json()
    assert "/auth/register?invite=inv_" in body["link"]
    listed = client.get(f"{API}/admin/invites", headers=admin_headers).get_json()["items"]
    assert [(i["id"], i["note"]) for i in listed] == [(body["id"], "for Mum")]
    assert "link" not in listed[0]
    assert client.delete(f"{API}/admin/invites/{body['id']}", headers=admin_headers).status_code == 204
    assert count(Invite) == 0
    assert_problem(client.delete(f"{API}/admin/invites/{body['id']}", headers=admin_headers), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"days": 0}, "days"),
        ({"days": 91}, "days"),
        ({"days": "soon"}, "days"),
        ({"note": "n" * 101}, "note"),
        ({"note": "nul\x00"}, "note"),
        ({"secret": "mine"}, "secret"),
    ],
)
def test_bad_invitation_bodies_are_422_and_create_nothing(client, admin_headers, body, field):
    problem = assert_problem(client.post(f"{API}/admin/invites", json=body, headers=admin_headers), 422)
    assert field in problem["errors"]
    assert count(Invite) == 0


def test_the_audit_log_pages_back(client, boss, admin_headers):
    for i in range(55):
        Factory().user(f"u{i}@example.com")
        db.session.add(AuditEvent(action="register", target_email=f"u{i}@example.com", detail=""))
    db.session.commit()
    first = client.get(f"{API}/admin/audit", headers=admin_headers).get_json()
    assert len(first["items"]) == 50
    assert first["items"][0]["id"] > first["items"][-1]["id"]
    assert first["items"][0]["description"]
    rest = client.get(f"{API}/admin/audit?before={first['next_before']}", headers=admin_headers).get_json()
    assert rest["next_before"] is None
    assert {e["id"] for e in first["items"]}.isdisjoint(e["id"] for e in rest["items"])
    assert len(first["items"]) + len(rest["items"]) == count(AuditEvent)
    assert_problem(client.get(f"{API}/admin/audit?before=0", headers=admin_headers), 422)


def test_tokens_are_not_revoked_by_reading(client, admin_headers, user):
    Factory().token(user)
    client.get(f"{API}/admin/users", headers=admin_headers)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken).where(ApiToken.revoked)) == 0
