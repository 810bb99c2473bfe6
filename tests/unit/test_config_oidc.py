"""Single sign-on settings: all three of issuer, client id and secret or none;
PASSWORD_LOGIN=off only with single sign-on; switches read on or off."""

from __future__ import annotations

import pytest

from app.config import BaseConfig, ConfigError, DevConfig, ProdConfig

GOOD = {"SECRET_KEY": "k" * 48, "DATABASE_URL": "postgresql://u:p@db/notes"}
SSO = {
    "OIDC_ISSUER": "https://sso.example.com/realms/main",
    "OIDC_CLIENT_ID": "notes",
    "OIDC_CLIENT_SECRET": "a-real-client-secret-from-the-provider",
}


def test_off_by_default():
    for config in (ProdConfig(GOOD), DevConfig({}), BaseConfig):
        assert config.OIDC_ISSUER == ""
        assert config.PASSWORD_LOGIN is True
        assert config.OIDC_AUTO_CREATE is False
        assert config.OIDC_BUTTON_LABEL == "Log in with SSO"


def test_read_from_the_environment():
    config = ProdConfig(
        {**GOOD, **SSO, "OIDC_AUTO_CREATE": "on", "PASSWORD_LOGIN": "off", "OIDC_BUTTON_LABEL": "Log in with Acme"}
    )
    assert (SSO["OIDC_ISSUER"], "notes") == (config.OIDC_ISSUER, config.OIDC_CLIENT_ID)
    assert SSO["OIDC_CLIENT_SECRET"] == config.OIDC_CLIENT_SECRET
    assert config.OIDC_AUTO_CREATE is True
    assert config.PASSWORD_LOGIN is False
    assert config.OIDC_BUTTON_LABEL == "Log in with Acme"
    assert SSO["OIDC_ISSUER"] == DevConfig(SSO).OIDC_ISSUER


def test_the_issuer_is_kept_exactly_as_given():
    """It must equal the ID tokens' "iss", trailing slash and all."""
    assert ProdConfig({**GOOD, **SSO, "OIDC_ISSUER": "https://tenant.example.com/"}).OIDC_ISSUER == (
        "https://tenant.example.com/"
    )


@pytest.mark.parametrize("missing", ["OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_ISSUER"])
def test_half_configured_sso_refuses_to_start_saying_what_to_set(missing):
    env = {**GOOD, **SSO, missing: ""}
    with pytest.raises(ConfigError, match=rf"half configured: {missing} is not set; set OIDC_ISSUER"):
        ProdConfig(env)
    with pytest.raises(ConfigError, match=missing):
        DevConfig({**SSO, missing: ""})


def test_an_issuer_alone_names_both_missing_settings():
    with pytest.raises(ConfigError, match="OIDC_CLIENT_ID, OIDC_CLIENT_SECRET are not set"):
        ProdConfig({**GOOD, "OIDC_ISSUER": SSO["OIDC_ISSUER"]})


def test_production_wants_an_https_issuer_and_a_real_secret():
    with pytest.raises(ConfigError, match="not an https URL"):
        ProdConfig({**GOOD, **SSO, "OIDC_ISSUER": "http://sso.example.com"})
    with pytest.raises(ConfigError, match="placeholder"):
        ProdConfig({**GOOD, **SSO, "OIDC_CLIENT_SECRET": "change-me"})
    # A provider on the same machine may speak plain HTTP.
    assert ProdConfig({**GOOD, **SSO, "OIDC_ISSUER": "http://127.0.0.1:9000"}).OIDC_ISSUER
    with pytest.raises(ConfigError, match="not a URL"):
        DevConfig({**SSO, "OIDC_ISSUER": "sso.example.com"})


def test_password_login_off_needs_sso():
    with pytest.raises(ConfigError, match="PASSWORD_LOGIN=off needs single sign-on"):
        ProdConfig({**GOOD, "PASSWORD_LOGIN": "off"})


@pytest.mark.parametrize("name", ["PASSWORD_LOGIN", "OIDC_AUTO_CREATE"])
def test_switches_are_on_or_off(name):
    with pytest.raises(ConfigError, match=rf"{name}='maybe' is neither on nor off"):
        ProdConfig({**GOOD, **SSO, name: "maybe"})
    assert getattr(ProdConfig({**GOOD, **SSO, name: "TRUE"}), name) is True
