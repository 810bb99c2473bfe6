"""URL_PREFIX: the path Notes is served under, checked at startup, and what it does to the cookies."""

from __future__ import annotations

import pytest
from tests.helpers.app import make_app

from app import create_app
from app.config import ConfigError, DevConfig, ProdConfig, config_for_environment, validate_url_prefix

GOOD_SECRET = "k" * 48
GOOD_ENV = {"SECRET_KEY": GOOD_SECRET, "DATABASE_URL": "postgresql://u:p@h:5432/d"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ""),
        ("/", ""),
        ("  ", ""),
        ("/notes", "/notes"),
        (" /notes ", "/notes"),
        ("/apps/notes", "/apps/notes"),
        ("/my-notes_2.0~x", "/my-notes_2.0~x"),
    ],
)
def test_a_prefix_is_a_path_or_nothing(raw, expected):
    assert validate_url_prefix(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("notes", r"URL_PREFIX='notes' does not start with '/'; set it like URL_PREFIX=/notes"),
        ("/notes/", r"URL_PREFIX='/notes/' ends with '/'; drop the trailing slash \(URL_PREFIX=/notes\)"),
        ("/apps//notes", r"URL_PREFIX='/apps//notes' has an empty, '\.' or '\.\.' segment"),
        ("/notes/..", r"has an empty, '\.' or '\.\.' segment"),
        ("/./notes", r"has an empty, '\.' or '\.\.' segment"),
        ("/no tes", r"has characters other than letters, digits and '-\._~' in 'no tes'"),
        ("/notes?x=1", r"in 'notes\?x=1'"),
        ("/notes%2F", r"in 'notes%2F'"),
        ("/nötes", r"in 'nötes'"),
        ("/a;b", r"in 'a;b'"),
        ("https://example.com/notes", r"does not start with '/'"),
        ("//evil.example", r"has an empty"),
    ],
)
def test_a_bad_prefix_is_refused_saying_what_to_fix(raw, message):
    with pytest.raises(ConfigError, match=message):
        validate_url_prefix(raw)


def test_dev_and_prod_read_it_from_the_environment():
    assert DevConfig({"URL_PREFIX": "/notes"}).URL_PREFIX == "/notes"
    assert DevConfig({}).URL_PREFIX == ""
    assert ProdConfig({**GOOD_ENV, "URL_PREFIX": "/notes"}).URL_PREFIX == "/notes"
    assert ProdConfig(GOOD_ENV).URL_PREFIX == ""


@pytest.mark.parametrize("env", [{"APP_ENV": "dev"}, {"APP_ENV": "prod", **GOOD_ENV}])
def test_a_bad_prefix_in_the_environment_stops_the_start(env):
    with pytest.raises(ConfigError, match=r"URL_PREFIX='notes/' does not start with '/'"):
        config_for_environment({**env, "URL_PREFIX": "notes/"})


def test_the_factory_refuses_a_bad_prefix_given_directly():
    with pytest.raises(ConfigError, match=r"URL_PREFIX='/notes/' ends with '/'"):
        create_app({"TESTING": True, "URL_PREFIX": "/notes/"})


def test_cookies_are_scoped_to_the_prefix_and_host_names_become_secure(tmp_path):
    config = ProdConfig({**GOOD_ENV, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "URL_PREFIX": "/notes"})
    app = create_app(config)
    assert app.config["SESSION_COOKIE_PATH"] == "/notes/"
    assert app.config["REMEMBER_COOKIE_PATH"] == "/notes/"
    assert app.config["DEVICE_COOKIE_PATH"] == "/notes/auth/"
    # __Host- requires Path=/: a browser would drop the cookie.
    assert app.config["SESSION_COOKIE_NAME"] == "__Secure-session"
    assert app.config["REMEMBER_COOKIE_NAME"] == "__Secure-remember"
    assert app.config["DEVICE_COOKIE_NAME"] == "__Secure-device"


def test_at_the_root_the_cookies_keep_their_names_and_paths(tmp_path):
    app = create_app(ProdConfig({**GOOD_ENV, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}))
    assert app.config["URL_PREFIX"] == ""
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["REMEMBER_COOKIE_NAME"] == "__Host-remember"
    assert app.config["DEVICE_COOKIE_PATH"] == "/auth/"
    assert app.config.get("SESSION_COOKIE_PATH") is None  # Flask's default: APPLICATION_ROOT, "/"


def test_a_cookie_name_without_host_is_left_alone():
    app = make_app(URL_PREFIX="/notes", SESSION_COOKIE_NAME="notes_session")
    assert app.config["SESSION_COOKIE_NAME"] == "notes_session"
    assert app.config["SESSION_COOKIE_PATH"] == "/notes/"
