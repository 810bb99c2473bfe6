"""/api/v1/password-resets: asking for a link and using it without logging in."""

from __future__ import annotations

import sqlalchemy as sa
from tests.helpers.api import API, assert_problem, count
from tests.helpers.data import PASSWORD
from tests.helpers.web import bearer

from app.accounts.mail import wait_for_deliveries
from app.extensions import api
from app.models import ApiToken, AuditEvent, LoginSession, PasswordReset, User, db

NEW = "a fresh start with a new passphrase"
RESETS = f"{API}/password-resets"


def _hash(user: User) -> str:
    db.session.expire_all()
    return db.session.get(User, user.id).password_hash


def _secret(client, smtp, email="alice@example.com") -> str:
    assert client.post(RESETS, json={"email": email}).status_code == 202
    return smtp.wait_for(1)[-1].secret


def test_asking_answers_202_with_the_same_body_for_every_address(client, user, smtp):
    known = client.post(RESETS, json={"email": "alice@example.com"})
    unknown = client.post(RESETS, json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.data == unknown.data
    assert known.get_json() == {
        "detail": "If an account has this email address, a link to reset its password has been sent to it."
    }
    # Nobody is calling, so no quota is counted or shown.
    assert "RateLimit" not in known.headers
    wait_for_deliveries()
    assert [m.recipients for m in smtp.messages] == [["alice@example.com"]]
    assert smtp.messages[0].link.startswith("http://localhost/auth/reset/rst_")


def test_the_secret_sets_a_new_password_ends_sessions_and_revokes_tokens(app, client, auth, user, factory, smtp):
    auth.login()
    token, bearer_secret = factory.token(user)
    secret = _secret(app.test_client(), smtp)

    response = app.test_client().post(f"{RESETS}/{secret}", json={"password": NEW})
    assert response.status_code == 204
    assert response.data == b""
    assert count(LoginSession) == 0
    assert app.test_client().get(f"{API}/notes", headers=bearer(bearer_secret)).status_code == 401
    assert app.test_client().post("/auth/login", data={"email": user.email, "password": NEW}).status_code == 302
    assert "password_reset" in db.session.scalars(sa.select(AuditEvent.action)).all()
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked is True


def test_revoke_tokens_false_keeps_them(app, client, user, factory, smtp):
    _, bearer_secret = factory.token(user)
    secret = _secret(client, smtp)
    response = client.post(f"{RESETS}/{secret}", json={"password": NEW, "revoke_tokens": False})
    assert response.status_code == 204
    assert client.get(f"{API}/notes", headers=bearer(bearer_secret)).status_code == 200


def test_bad_reused_and_tampered_secrets_are_404_problems_that_change_nothing(app, client, user, smtp):
    secret = _secret(client, smtp)
    before = _hash(user)
    for bad in ("rst_unknown", "nope", secret[:-2] + ("xx" if not secret.endswith("xx") else "yy")):
        body = assert_problem(client.post(f"{RESETS}/{bad}", json={"password": NEW}), 404)
        assert "cannot be used" in body["detail"]
        assert _hash(user) == before
    assert client.post(f"{RESETS}/{secret}", json={"password": NEW}).status_code == 204
    after = _hash(user)
    body = assert_problem(client.post(f"{RESETS}/{secret}", json={"password": "yet another passphrase"}), 404)
    assert "used already" in body["detail"]
    assert _hash(user) == after


def test_a_password_the_policy_refuses_is_a_422_and_keeps_the_link(client, user, smtp):
    secret = _secret(client, smtp)
    before = _hash(user)
    for password, where in (("short", "password"), ("x" * 129, "password")):
        body = assert_problem(client.post(f"{RESETS}/{secret}", json={"password": password}), 422)
        assert where in body["errors"]
    body = assert_problem(client.post(f"{RESETS}/{secret}", json={"password": "password123"}), 422)
    assert "most common" in body["detail"]
    body = assert_problem(client.post(f"{RESETS}/{secret}", json={"password": "alice@example.com"}), 422)
    assert "email address" in body["detail"]
    assert _hash(user) == before
    assert db.session.scalar(sa.select(PasswordReset.used_at)) is None


def test_bad_bodies_are_refused_and_send_nothing(client, user, smtp):
    for body, status in (
        ({}, 422),
        ({"email": "not-an-address"}, 422),
        ({"email": "alice@example.com", "admin": True}, 422),
        ({"email": "a" * 250 + "@example.com"}, 422),
    ):
        assert_problem(client.post(RESETS, json=body), status)
    assert_problem(client.post(RESETS, data="email=alice@example.com"), 415)
    assert_problem(client.post(f"{RESETS}/rst_x", json={"password": NEW, "revoke_tokens": "yes"}), 422)
    wait_for_deliveries()
    assert smtp.messages == []
    assert count(PasswordReset) == 0


def test_asking_too_often_is_a_429_with_retry_after(app, client, user, smtp):
    app.config["PASSWORD_RESET_MAX_PER_EMAIL"] = 1
    assert client.post(RESETS, json={"email": "alice@example.com"}).status_code == 202
    body = assert_problem(client.post(RESETS, json={"email": "alice@example.com"}), 429)
    assert "Too many password reset requests" in body["detail"]
    wait_for_deliveries()
    assert len(smtp.messages) == 1


def test_without_smtp_asking_is_a_403_that_says_so(client, user):
    body = assert_problem(client.post(RESETS, json={"email": "alice@example.com"}), 403)
    assert "not set up on this server; ask an administrator" in body["detail"]
    assert count(PasswordReset) == 0


def test_a_token_or_session_changes_nothing_about_who_may_ask(client, user, alice_secret, smtp):
    """The reset operations act for nobody: a token is neither needed nor counted."""
    response = client.post(RESETS, json={"email": "alice@example.com"}, headers=bearer(alice_secret))
    assert response.status_code == 202
    assert "RateLimit" not in response.headers


def test_only_the_reset_operations_are_public_in_the_document(app):
    spec = api.spec.to_dict()
    public = sorted(
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if method != "parameters" and operation.get("security") == []
    )
    assert public == [f"POST {RESETS}", f"POST {RESETS}/{{token}}"]


def test_every_other_operation_still_needs_a_caller(client):
    assert client.get(f"{API}/notes").status_code == 401
    assert client.post(f"{API}/tokens", json={"name": "x", "password": PASSWORD}).status_code == 401
