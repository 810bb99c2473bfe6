"""REQUIRE_2FA and ENCRYPTION_KEY: off and unset unless the environment says so; a typo refuses to start."""

from __future__ import annotations

import pytest

from app.config import ConfigError, DevConfig, ProdConfig, TestConfig

GOOD = {"SECRET_KEY": "k" * 48, "DATABASE_URL": "postgresql://u:p@db/notes"}


def test_defaults():
    assert DevConfig({}).REQUIRE_2FA is False
    assert TestConfig.REQUIRE_2FA is False
    assert ProdConfig(GOOD).REQUIRE_2FA is False
    assert ProdConfig(GOOD).ENCRYPTION_KEY is None


@pytest.mark.parametrize(("value", "required"), [("1", True), (" true ", True), ("YES", True), ("0", False)])
def test_require_2fa_from_the_environment(value, required):
    assert ProdConfig({**GOOD, "REQUIRE_2FA": value}).REQUIRE_2FA is required
    assert DevConfig({"REQUIRE_2FA": value}).REQUIRE_2FA is required


@pytest.mark.parametrize("value", ["2", "maybe", "enabled"])
def test_a_typo_in_require_2fa_refuses_to_start(value):
    with pytest.raises(
        ConfigError,
        match=r"REQUIRE_2FA=.* is neither on nor off; set it like REQUIRE_2FA=on \(or REQUIRE_2FA=off, the default\)",
    ):
        ProdConfig({**GOOD, "REQUIRE_2FA": value})


def test_encryption_key_is_read():
    assert ProdConfig({**GOOD, "ENCRYPTION_KEY": "e" * 40}).ENCRYPTION_KEY == "e" * 40


@pytest.mark.parametrize("value", ["short", "change-me-to-a-long-random-string-of-characters"])
def test_a_weak_encryption_key_refuses_to_start_in_production(value):
    with pytest.raises(ConfigError, match="ENCRYPTION_KEY must be at least 32 characters"):
        ProdConfig({**GOOD, "ENCRYPTION_KEY": value})
