"""The API and two-factor login: minting a token needs a code too, and /api/v1/account says whether it is on."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from tests.helpers.api import API, assert_problem, count
from tests.helpers.data import PASSWORD
from tests.helpers.web import bearer

from app.models import ApiToken, AuditEvent, db


@pytest.fixture
def in_with_2fa(client, auth, user, authenticator) -> list[str]:
    codes = authenticator.enable(user)
    auth.login()
    client.post("/auth/login/code", data={"code": authenticator.code()})
    authenticator.tick()
    return codes


def _mint(client, **body):
    return client.post(f"{API}/tokens", json={"name": "script", "password": PASSWORD, **body})


def test_a_token_needs_a_code_when_two_factor_is_on(client, in_with_2fa):
    body = assert_problem(_mint(client), 403)
    assert "two-factor login on" in body["detail"] and "`code`" in body["detail"]
    assert count(ApiToken) == 0


def test_a_wrong_code_is_refused_and_audited(client, in_with_2fa, authenticator):
    wrong = "000000" if authenticator.code() != "000000" else "111111"
    body = assert_problem(_mint(client, code=wrong), 403)
    assert "That code is not right." in body["detail"]
    assert count(ApiToken) == 0
    last = db.session.scalar(sa.select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1))
    assert last == "two_factor_failed"


def test_a_wrong_password_with_a_right_code_does_not_use_the_code(client, in_with_2fa, authenticator):
    assert_problem(_mint(client, password="not the password", code=authenticator.code()), 403)
    assert _mint(client, code=authenticator.code()).status_code == 201


def test_a_code_that_is_too_long_is_a_422(client, in_with_2fa):
    body = assert_problem(_mint(client, code="1" * 41), 422)
    assert "code" in body["errors"]
    assert count(ApiToken) == 0


def test_a_token_with_a_code_and_the_code_is_used_up(client, in_with_2fa, authenticator):
    code = authenticator.code()
    assert _mint(client, code=code).status_code == 201
    assert_problem(_mint(client, code=code), 403)
    assert count(ApiToken) == 1


def test_a_recovery_code_mints_a_token_once(client, in_with_2fa):
    assert _mint(client, code=in_with_2fa[0]).status_code == 201
    assert_problem(_mint(client, code=in_with_2fa[0]), 403)


def test_a_retry_with_the_same_idempotency_key_checks_the_code_again(client, in_with_2fa, authenticator):
    """The stored answer holds a secret: a replayed code must not fetch it again."""
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"name": "script", "password": PASSWORD, "code": authenticator.code()}
    assert client.post(f"{API}/tokens", json=body, headers=headers).status_code == 201
    assert_problem(client.post(f"{API}/tokens", json=body, headers=headers), 403)


def test_without_two_factor_no_code_is_needed(client, logged_in):
    assert _mint(client).status_code == 201


def test_the_account_says_whether_two_factor_is_on(client, logged_in, authenticator, factory):
    _, secret = factory.token(logged_in)
    assert client.get(f"{API}/account", headers=bearer(secret)).get_json() == {
        "id": logged_in.id,
        "email": "alice@example.com",
        "is_admin": False,
        "two_factor": False,
    }
    authenticator.enable(logged_in)
    assert client.get(f"{API}/account", headers=bearer(secret)).get_json()["two_factor"] is True


def test_the_account_needs_a_caller(client):
    assert_problem(client.get(f"{API}/account"), 401)
