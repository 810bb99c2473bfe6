"""REGISTRATION: who may create an account. Open on a laptop, by invitation in production unless told."""

from __future__ import annotations

import pytest

from app.config import ConfigError, DevConfig, ProdConfig, TestConfig

GOOD = {"SECRET_KEY": "k" * 48, "DATABASE_URL": "postgresql://u:p@db/notes"}


def test_defaults():
    assert DevConfig({}).REGISTRATION == "open"
    assert TestConfig.REGISTRATION == "open"
    assert ProdConfig(GOOD).REGISTRATION == "invite"


@pytest.mark.parametrize(("value", "mode"), [("open", "open"), (" Closed ", "closed"), ("INVITE", "invite")])
def test_set_from_the_environment(value, mode):
    assert mode == ProdConfig({**GOOD, "REGISTRATION": value}).REGISTRATION
    assert mode == DevConfig({"REGISTRATION": value}).REGISTRATION


@pytest.mark.parametrize("value", ["", "yes", "public", "invite-only"])
def test_anything_else_refuses_to_start_with_the_choices(value):
    with pytest.raises(ConfigError, match=r"REGISTRATION=.* is not one of open, invite, closed"):
        ProdConfig({**GOOD, "REGISTRATION": value})
