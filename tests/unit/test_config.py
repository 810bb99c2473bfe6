"""Configuration: production refuses to start without safe secrets, and the
factory picks and layers configurations as documented."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from flask import Flask

from app import create_app
from app.config import (
    MIN_SECRET_KEY_LENGTH,
    PLACEHOLDER_SECRETS,
    BaseConfig,
    ConfigError,
    DevConfig,
    ProdConfig,
    TestConfig,
    config_for_environment,
)

GOOD_SECRET = "x" * 48
GOOD_URL = "postgresql+psycopg://notes:pw@db:5432/notes"
GOOD_ENV = {"SECRET_KEY": GOOD_SECRET, "DATABASE_URL": GOOD_URL}
GENERATE = "secrets.token_urlsafe"


def prod_error(**env: str) -> str:
    with pytest.raises(ConfigError) as info:
        ProdConfig(env)
    message = str(info.value)
    assert "\n" not in message, "the message must fit on one log line"
    return message


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "TRUSTED_HOSTS", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# --- ProdConfig refuses unsafe secrets -------------------------------------


@pytest.mark.parametrize("value", [None, ""])
def test_prod_refuses_missing_secret_key(value):
    env = {"DATABASE_URL": GOOD_URL}
    if value is not None:
        env["SECRET_KEY"] = value
    message = prod_error(**env)
    assert "SECRET_KEY is not set" in message
    assert GENERATE in message


def test_prod_refuses_short_secret_key():
    message = prod_error(SECRET_KEY="a1" * 15 + "b", DATABASE_URL=GOOD_URL)  # 31 characters
    assert f"needs at least {MIN_SECRET_KEY_LENGTH}" in message
    assert "31 characters" in message
    assert GENERATE in message


def test_prod_accepts_secret_key_of_exactly_minimum_length():
    config = ProdConfig({"SECRET_KEY": "k" * MIN_SECRET_KEY_LENGTH, "DATABASE_URL": GOOD_URL})
    assert config.SECRET_KEY == "k" * MIN_SECRET_KEY_LENGTH


@pytest.mark.parametrize(
    "placeholder",
    [
        *sorted(PLACEHOLDER_SECRETS),
        # .env.example-style values, long enough to pass the length check.
        "change-me-to-a-long-random-string-of-at-least-32-characters",
        "CHANGE-ME-" + "0" * 40,
        "changeme-please-this-is-not-a-real-secret-key",
        "replace-me-with-a-long-random-string-of-64-characters-or-more",
        "Replace-Me-" + "a" * 40,
    ],
)
def test_prod_refuses_placeholder_secret_keys(placeholder):
    message = prod_error(SECRET_KEY=placeholder, DATABASE_URL=GOOD_URL)
    assert "placeholder" in message
    assert GENERATE in message


def test_prod_refuses_missing_database_url():
    message = prod_error(SECRET_KEY=GOOD_SECRET)
    assert "DATABASE_URL is not set" in message
    assert "postgresql+psycopg://" in message


def test_prod_accepts_good_pair():
    config = ProdConfig(GOOD_ENV)
    assert config.SECRET_KEY == GOOD_SECRET
    assert config.SQLALCHEMY_DATABASE_URI == GOOD_URL
    assert config.TRUSTED_HOSTS is None


@pytest.mark.parametrize("scheme", ["postgres://", "postgresql://"])
def test_prod_rewrites_postgres_urls_to_psycopg(scheme):
    config = ProdConfig({"SECRET_KEY": GOOD_SECRET, "DATABASE_URL": scheme + "u:p@h:5432/d"})
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u:p@h:5432/d"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("notes.example.org", ["notes.example.org"]),
        (" a.example , b.example ,, ", ["a.example", "b.example"]),
        ("   ", None),
    ],
)
def test_prod_parses_trusted_hosts(raw, expected):
    hosts = ProdConfig({**GOOD_ENV, "TRUSTED_HOSTS": raw}).TRUSTED_HOSTS
    assert hosts == expected


def test_prod_cookie_and_request_settings():
    config = ProdConfig(GOOD_ENV)
    assert config.DEBUG is False
    assert config.TESTING is False
    assert config.SESSION_COOKIE_SECURE is True
    assert config.SESSION_COOKIE_HTTPONLY is True
    assert config.SESSION_COOKIE_SAMESITE == "Lax"
    assert config.SESSION_COOKIE_NAME == "__Host-session"
    assert config.REMEMBER_COOKIE_SECURE is True
    assert config.REMEMBER_COOKIE_HTTPONLY is True
    assert config.REMEMBER_COOKIE_SAMESITE == "Lax"
    assert config.REMEMBER_COOKIE_NAME == "__Host-remember"
    assert config.MAX_CONTENT_LENGTH == 1024 * 1024
    assert config.PREFERRED_URL_SCHEME == "https"


def test_prod_app_sends_host_prefixed_secure_session_cookie(tmp_path):
    # The __Host- prefix is only honoured by browsers with Secure, Path=/ and no Domain.
    # A SQLite file keeps the test free of a PostgreSQL driver; no query runs anyway.
    app = create_app(ProdConfig({"SECRET_KEY": GOOD_SECRET, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}))
    assert app.debug is False
    response = app.test_client().get("/auth/login")  # the CSRF token starts a session
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    for attribute in ("Secure", "HttpOnly", "Path=/", "SameSite=Lax"):
        assert attribute in cookie
    assert "Domain" not in cookie


# --- picking a configuration -----------------------------------------------


@pytest.mark.parametrize("name", ["dev", "development", "DEV", ""])
def test_config_for_environment_dev(name):
    assert isinstance(config_for_environment({"APP_ENV": name}), DevConfig)


def test_config_for_environment_defaults_to_dev():
    assert isinstance(config_for_environment({}), DevConfig)


@pytest.mark.parametrize("name", ["prod", "production", " Prod "])
def test_config_for_environment_prod(name):
    assert isinstance(config_for_environment({"APP_ENV": name, **GOOD_ENV}), ProdConfig)


def test_config_for_environment_test():
    assert config_for_environment({"APP_ENV": "test"}) is TestConfig


def test_config_for_environment_refuses_unknown_name():
    with pytest.raises(ConfigError, match=r"APP_ENV='staging' is not known; use 'dev' or 'prod'"):
        config_for_environment({"APP_ENV": "staging"})


def test_create_app_in_prod_without_secret_key_refuses_to_start(clean_env):
    clean_env.setenv("APP_ENV", "prod")
    clean_env.setenv("DATABASE_URL", GOOD_URL)
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app(None)


def test_create_app_in_prod_with_placeholder_refuses_to_start(clean_env):
    clean_env.setenv("APP_ENV", "prod")
    clean_env.setenv("DATABASE_URL", GOOD_URL)
    clean_env.setenv("SECRET_KEY", "replace-me-with-a-long-random-string-of-64-characters-or-more")
    with pytest.raises(ConfigError, match="placeholder"):
        create_app(None)


def test_create_app_dict_without_testing_layers_over_app_env(clean_env):
    # The dict is applied over what APP_ENV picks, so prod checks still run.
    clean_env.setenv("APP_ENV", "prod")
    with pytest.raises(ConfigError):
        create_app({"NOTES_PER_PAGE": 5})


def test_test_dict_is_applied_last_over_test_config():
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "NOTES_PER_PAGE": 3})
    assert app.config["NOTES_PER_PAGE"] == 3
    # Keys the dict does not set come from TestConfig.
    assert app.config["SECRET_KEY"] == TestConfig.SECRET_KEY
    assert app.config["WTF_CSRF_ENABLED"] is False
    overridden = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "WTF_CSRF_ENABLED": True})
    assert overridden.config["WTF_CSRF_ENABLED"] is True


@pytest.fixture
def instance(clean_env, tmp_path):
    """Point the factory's instance folder at tmp_path, so dev apps write nothing into the checkout."""
    folder = tmp_path / "instance"
    clean_env.setattr(Flask, "auto_find_instance_path", lambda self: str(folder))
    return folder


def test_dev_config_puts_sqlite_under_instance_folder(clean_env, instance):
    clean_env.setenv("APP_ENV", "dev")
    app = create_app(None)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + os.path.join(str(instance), "notes.db")
    assert instance.is_dir()
    assert app.debug is False


def test_dev_config_without_secret_key_uses_instance_key(clean_env, instance):
    clean_env.setenv("APP_ENV", "dev")
    app = create_app(None)
    assert app.config["SECRET_KEY"] == (instance / "secret_key").read_text()
    assert app.config["SECRET_KEY"] not in PLACEHOLDER_SECRETS


def test_dev_config_rewrites_postgres_url():
    assert DevConfig({"DATABASE_URL": "postgres://u:p@localhost/notes"}).SQLALCHEMY_DATABASE_URI == (
        "postgresql+psycopg://u:p@localhost/notes"
    )


def test_dev_config_uses_database_url_and_secret_key_when_set(clean_env, instance, tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    clean_env.setenv("APP_ENV", "dev")
    clean_env.setenv("DATABASE_URL", url)
    clean_env.setenv("SECRET_KEY", "my-own-dev-key")
    clean_env.setenv("FLASK_DEBUG", "1")
    app = create_app(None)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url
    assert app.config["SECRET_KEY"] == "my-own-dev-key"
    assert app.debug is True
    assert not instance.exists()


# --- hashing cost ----------------------------------------------------------


def test_test_config_uses_cheap_hashing_and_production_does_not():
    assert TestConfig.PASSWORD_HASH_TIME_COST < BaseConfig.PASSWORD_HASH_TIME_COST
    assert TestConfig.PASSWORD_HASH_MEMORY_KIB < BaseConfig.PASSWORD_HASH_MEMORY_KIB
    prod = ProdConfig(GOOD_ENV)
    assert prod.PASSWORD_HASH_TIME_COST == BaseConfig.PASSWORD_HASH_TIME_COST
    assert prod.PASSWORD_HASH_MEMORY_KIB == BaseConfig.PASSWORD_HASH_MEMORY_KIB


def test_session_lifetimes_are_bounded():
    session_lifetime, remember_lifetime = BaseConfig.PERMANENT_SESSION_LIFETIME, BaseConfig.REMEMBER_COOKIE_DURATION
    assert session_lifetime <= timedelta(days=30)
    assert remember_lifetime <= timedelta(days=30)
