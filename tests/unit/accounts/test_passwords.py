"""Password hashing: argon2id, constant work for unknown users, upgrades."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from app import create_app
from app.accounts.passwords import hash_password, needs_rehash, verify_password
from app.config import BaseConfig, ProdConfig

OWASP_MIN_MEMORY_KIB = 19 * 1024


@pytest.fixture(scope="module")
def hashing_app():
    return create_app({"TESTING": True})


@pytest.fixture
def app(hashing_app):
    """One app for the module (hashing needs config, not a database), its
    config restored after each test so every test starts from TestConfig."""
    saved = dict(hashing_app.config)
    with hashing_app.app_context():
        yield hashing_app
    hashing_app.config.clear()
    hashing_app.config.update(saved)


def test_hash_is_argon2id_with_configured_parameters(app):
    hashed = hash_password("s3cret-password")
    assert hashed.startswith("$argon2id$")
    t, m, p = (
        app.config[k] for k in ("PASSWORD_HASH_TIME_COST", "PASSWORD_HASH_MEMORY_KIB", "PASSWORD_HASH_PARALLELISM")
    )
    assert f"$m={m},t={t},p={p}$" in hashed
    assert "s3cret-password" not in hashed


def test_hashes_are_salted(app):
    assert hash_password("same password") != hash_password("same password")


def test_verify_accepts_right_and_refuses_wrong_password(app):
    hashed = hash_password("right password")
    assert verify_password(hashed, "right password") is True
    assert verify_password(hashed, "wrong password") is False
    assert verify_password(hashed, "") is False


@pytest.fixture
def verify_calls(monkeypatch):
    calls: list[str] = []
    original = PasswordHasher.verify

    def counting(self, stored_hash, password):
        calls.append(stored_hash)
        return original(self, stored_hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return calls


def test_unknown_user_still_runs_a_verification(app, verify_calls):
    assert verify_password(None, "anything") is False
    assert len(verify_calls) == 1
    assert verify_calls[0].startswith("$argon2id$")  # a real hash, so the cost is real
    assert verify_password(None, "dummy password for timing") is False  # even the dummy's own password
    assert len(verify_calls) == 2


def test_known_user_runs_exactly_one_verification(app, verify_calls):
    hashed = hash_password("pw-pw-pw-pw")
    verify_password(hashed, "nope")
    assert verify_calls == [hashed]


@pytest.mark.parametrize("bad", ["", "not a hash", "$argon2id$v=19$garbage", "$2b$12$abcdefghijklmnopqrstuv"])
def test_invalid_stored_hash_is_a_refusal_not_a_crash(app, bad):
    assert verify_password(bad, "password") is False


def test_needs_rehash_when_parameters_change(app):
    hashed = hash_password("pw-pw-pw-pw")
    assert needs_rehash(hashed) is False
    app.config["PASSWORD_HASH_TIME_COST"] += 1
    assert needs_rehash(hashed) is True
    # The old hash still verifies, so the login that upgrades it can succeed.
    assert verify_password(hashed, "pw-pw-pw-pw") is True


def test_needs_rehash_for_invalid_hash(app):
    assert needs_rehash("not a hash") is True


def test_production_parameters_meet_owasp_minimums():
    # OWASP Password Storage Cheat Sheet: argon2id, m >= 19 MiB, t >= 2, p >= 1.
    prod = ProdConfig({"SECRET_KEY": "k" * 40, "DATABASE_URL": "postgresql://u@h/d"})
    for config in (BaseConfig, prod):
        assert config.PASSWORD_HASH_MEMORY_KIB >= OWASP_MIN_MEMORY_KIB
        assert config.PASSWORD_HASH_TIME_COST >= 2
        assert config.PASSWORD_HASH_PARALLELISM >= 1


def test_production_parameters_reach_the_hash(app):
    for key in ("PASSWORD_HASH_TIME_COST", "PASSWORD_HASH_MEMORY_KIB", "PASSWORD_HASH_PARALLELISM"):
        app.config[key] = getattr(BaseConfig, key)
    hashed = hash_password("pw-pw-pw-pw")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
