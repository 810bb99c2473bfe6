"""Brute-force protection: limits per account and address, per address and
per account, kept in the database, with device cookies so that an attacker
cannot lock the real user out."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.helpers.app import TEST_CONFIG
from tests.helpers.data import PASSWORD, Factory

from app import create_app
from app.models import AuthFailure, db

WRONG = "not the password"


def _login(client, email="alice@example.com", password=WRONG, ip="198.51.100.7"):
    return client.post(
        "/auth/login", data={"email": email, "password": password}, environ_overrides={"REMOTE_ADDR": ip}
    )


@pytest.fixture
def limits(app):
    app.config.update(
        LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP=3,
        LOGIN_MAX_FAILURES_PER_IP=6,
        LOGIN_MAX_FAILURES_PER_ACCOUNT=5,
        LOGIN_MAX_FAILURES_PER_DEVICE=4,
    )
    return app.config


def test_failures_from_one_address_on_one_account_are_limited(client, user, limits):
    for _ in range(3):
        assert _login(client).status_code == 401
    response = _login(client, password=PASSWORD)  # even the right password waits
    assert response.status_code == 429
    retry = int(response.headers["Retry-After"])
    assert 0 < retry <= 15 * 60
    assert "Too many failed logins" in response.get_data(as_text=True)
    assert client.get("/notes/").status_code == 302


def test_a_blocked_attempt_does_not_check_the_password(client, user, limits, monkeypatch):
    for _ in range(3):
        _login(client)
    calls = []
    monkeypatch.setattr("app.accounts.service.verify_password", lambda *a: calls.append(a) or True)
    assert _login(client).status_code == 429
    assert calls == []


def test_the_block_lifts_when_the_failures_leave_the_window(client, user, limits):
    for _ in range(3):
        _login(client)
    assert _login(client, password=PASSWORD).status_code == 429
    for failure in db.session.scalars(sa.select(AuthFailure)):
        failure.created_at -= timedelta(minutes=16)
    db.session.commit()
    assert _login(client, password=PASSWORD).status_code == 302


def test_one_address_trying_many_accounts_is_limited(client, user, limits):
    for n in range(6):
        assert _login(client, email=f"victim{n}@example.com").status_code == 401
    assert _login(client, email="someone-else@example.com").status_code == 429


def test_many_addresses_on_one_account_lock_it_for_new_devices(app, client, user, limits):
    for n in range(5):
        assert _login(client, ip=f"203.0.113.{n}").status_code == 401
    newcomer = app.test_client()
    assert _login(newcomer, password=PASSWORD, ip="192.0.2.50").status_code == 429


def test_the_real_users_known_device_is_never_locked_out_by_an_attacker(app, user, limits):
    own = app.test_client()
    assert _login(own, password=PASSWORD, ip="192.0.2.10").status_code == 302
    assert own.get_cookie("device", path="/auth/") is not None
    own.post("/auth/logout")

    attacker = app.test_client()
    for n in range(30):
        _login(attacker, ip=f"203.0.113.{n}")
    assert _login(attacker, password=PASSWORD, ip="203.0.113.99").status_code == 429
    # The owner's browser still gets in, from its usual address or a new one.
    assert _login(own, password=PASSWORD, ip="192.0.2.10").status_code == 302


def test_a_device_cookie_only_counts_for_its_own_account(app, user, factory, limits):
    factory.user("bob@example.com")
    own = app.test_client()
    _login(own, password=PASSWORD)  # a device cookie for alice
    own.post("/auth/logout")
    for n in range(5):
        _login(app.test_client(), email="bob@example.com", ip=f"203.0.113.{n}")
    assert _login(own, email="bob@example.com", password=PASSWORD, ip="192.0.2.77").status_code == 429


def test_a_forged_device_cookie_is_ignored(app, user, limits):
    for n in range(5):
        _login(app.test_client(), ip=f"203.0.113.{n}")
    forger = app.test_client()
    forger.set_cookie("device", "eyJhIjoiMTIzIiwiZCI6IngifQ.forged", path="/auth/")
    assert _login(forger, password=PASSWORD, ip="192.0.2.88").status_code == 429


def test_a_device_is_limited_too(app, user, limits):
    own = app.test_client()
    _login(own, password=PASSWORD)
    own.post("/auth/logout")
    for _ in range(4):
        assert _login(own).status_code == 401
    assert _login(own, password=PASSWORD).status_code == 429


def test_success_forgives_this_clients_own_failures(client, user, limits):
    for _ in range(2):
        _login(client)
    assert _login(client, password=PASSWORD).status_code == 302
    client.post("/auth/logout")
    for _ in range(2):
        assert _login(client).status_code == 401  # the count started again


def test_unknown_accounts_are_throttled_the_same(client, limits):
    for _ in range(3):
        assert _login(client, email="nobody@example.com").status_code == 401
    assert _login(client, email="nobody@example.com").status_code == 429


def test_failures_store_no_email_address(client, limits):
    _login(client, email="secret-person@example.com")
    keys = db.session.scalars(sa.select(AuthFailure.key)).all()
    assert keys and not any("secret-person" in key for key in keys)


def test_the_count_is_shared_by_every_worker_and_replica(tmp_path):
    """Two apps on one database (two gunicorn workers, or two web replicas)
    see each other's failures: nothing is kept in process memory."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP": 3})
    second = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP": 3})
    with first.app_context():
        db.create_all()
        Factory().user("alice@example.com")
    for app in (first, second, first):
        with app.app_context():
            assert _login(app.test_client()).status_code == 401
    with second.app_context():
        assert _login(second.test_client(), password=PASSWORD).status_code == 429


def test_a_client_that_reaches_the_app_directly_cannot_pick_its_address_with_x_forwarded_for():
    """Production trusts one proxy hop; from a peer that is not that proxy, X-Forwarded-For is ignored."""
    app = create_app(
        {
            **TEST_CONFIG,
            "PROXY_HOPS": 1,
            "TRUSTED_PROXIES": ("172.16.238.0/24",),
            "LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP": 3,
            "LOGIN_MAX_FAILURES_PER_ACCOUNT": 100,
        }
    )
    with app.app_context():
        db.create_all()
        Factory().user("alice@example.com")
        client = app.test_client()
        statuses = [
            client.post(
                "/auth/login",
                data={"email": "alice@example.com", "password": WRONG},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},  # a new "address" each time
                environ_overrides={"REMOTE_ADDR": "198.51.100.9"},
            ).status_code
            for n in range(4)
        ]
        db.session.remove()
        db.drop_all()
    assert statuses == [401, 401, 401, 429]
