"""A token outlives the session that creates it, so minting one needs the
password, from a session; a token can never mint tokens."""

from __future__ import annotations

from tests.helpers.api import API, assert_problem, count
from tests.helpers.data import PASSWORD

from app.models import ApiToken


def test_a_token_cannot_create_tokens(client, headers):
    body = assert_problem(
        client.post(f"{API}/tokens", json={"name": "child", "password": PASSWORD}, headers=headers), 403
    )
    assert "cannot create tokens" in body["detail"]
    assert count(ApiToken) == 1  # only the one used


def test_a_session_needs_the_password(client, logged_in):
    assert_problem(client.post(f"{API}/tokens", json={"name": "x", "password": "not it at all"}), 403)
    body = assert_problem(client.post(f"{API}/tokens", json={"name": "x"}), 422)
    assert "password" in body["errors"]
    assert count(ApiToken) == 0
    assert client.post(f"{API}/tokens", json={"name": "x", "password": PASSWORD}).status_code == 201


def test_password_guessing_through_the_token_endpoint_is_throttled(app, client, logged_in):
    app.config["LOGIN_MAX_FAILURES_PER_DEVICE"] = 3
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP"] = 3
    for _ in range(3):
        assert_problem(client.post(f"{API}/tokens", json={"name": "x", "password": "guess guess"}), 403)
    response = client.post(f"{API}/tokens", json={"name": "x", "password": PASSWORD})
    assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) > 0
    assert count(ApiToken) == 0


def test_the_settings_page_needs_the_password_too(client, logged_in):
    response = client.post("/account/tokens", data={"name": "laptop", "scope": "write", "password": "wrong wrong"})
    assert response.status_code == 403
    assert "That is not your password" in response.get_data(as_text=True)
    assert count(ApiToken) == 0
    response = client.post("/account/tokens", data={"name": "laptop", "scope": "write"})
    assert response.status_code == 400
    assert count(ApiToken) == 0
