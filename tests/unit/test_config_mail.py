"""MAIL_* and PASSWORD_RESET_MINUTES: SMTP for reset links, all optional; what cannot work refuses to start."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.config import ConfigError, DevConfig, ProdConfig, TestConfig

GOOD = {"SECRET_KEY": "k" * 48, "DATABASE_URL": "postgresql://u:p@db/notes", "TRUSTED_HOSTS": "notes.example.com"}


def test_without_mail_settings_nothing_is_required_and_no_mail_is_sent():
    for config in (ProdConfig(GOOD), DevConfig({}), TestConfig):
        assert config.MAIL_SERVER is None
        assert timedelta(minutes=30) == config.PASSWORD_RESET_TTL
        assert config.MAIL_BACKEND == "smtp"


def test_every_setting_is_read_in_production_and_dev():
    env = {
        "MAIL_SERVER": " smtp.example.org ",
        "MAIL_PORT": "2525",
        "MAIL_USERNAME": "notes",
        "MAIL_PASSWORD": "s3cret",
        "MAIL_USE_TLS": "true",
        "MAIL_FROM": "Notes <notes@example.org>",
        "PASSWORD_RESET_MINUTES": "15",
    }
    for config in (ProdConfig({**GOOD, **env}), DevConfig(env)):
        assert config.MAIL_SERVER == "smtp.example.org"
        assert config.MAIL_PORT == 2525
        assert (config.MAIL_USERNAME, config.MAIL_PASSWORD) == ("notes", "s3cret")
        assert (config.MAIL_USE_TLS, config.MAIL_USE_SSL) == (True, False)
        assert config.MAIL_DEFAULT_SENDER == "Notes <notes@example.org>"
        assert timedelta(minutes=15) == config.PASSWORD_RESET_TTL


@pytest.mark.parametrize(
    ("env", "port"),
    [({}, 25), ({"MAIL_USE_TLS": "yes"}, 587), ({"MAIL_USE_SSL": "1"}, 465), ({"MAIL_USE_TLS": "0"}, 25)],
)
def test_the_port_follows_the_encryption_unless_given(env, port):
    assert port == ProdConfig({**GOOD, "MAIL_SERVER": "smtp", **env}).MAIL_PORT


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MAIL_USE_TLS": "true", "MAIL_USE_SSL": "true"}, "MAIL_USE_TLS and MAIL_USE_SSL are both set"),
        ({"MAIL_USE_TLS": "maybe"}, "MAIL_USE_TLS='maybe' is neither on nor off; set it like MAIL_USE_TLS=on"),
        ({"MAIL_PORT": "smtp"}, "MAIL_PORT='smtp' is not a whole number above zero"),
        ({"MAIL_PORT": "70000"}, "MAIL_PORT=70000 is not a port"),
        ({"PASSWORD_RESET_MINUTES": "0"}, "PASSWORD_RESET_MINUTES='0' is not a whole number above zero"),
    ],
)
def test_settings_that_cannot_work_refuse_to_start_with_a_fix(env, message):
    with pytest.raises(ConfigError, match=message):
        ProdConfig({**GOOD, **env})


def test_production_mail_needs_the_trusted_host_names():
    """Reset links are built from the Host header: without TRUSTED_HOSTS a stranger could pick the link's host."""
    env = {key: value for key, value in GOOD.items() if key != "TRUSTED_HOSTS"}
    assert ProdConfig(env).MAIL_SERVER is None  # no mail, nothing to guard
    with pytest.raises(
        ConfigError, match=r"MAIL_SERVER is set but TRUSTED_HOSTS is not.*TRUSTED_HOSTS=notes\.example\.com"
    ):
        ProdConfig({**env, "MAIL_SERVER": "smtp.example.com"})
