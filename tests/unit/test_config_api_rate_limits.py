"""The API rate limits are on by default everywhere and set from the environment in production and dev."""

from __future__ import annotations

import pytest

from app.config import ConfigError, DevConfig, ProdConfig, TestConfig

GOOD = {"SECRET_KEY": "k" * 48, "DATABASE_URL": "postgresql://u:p@db/notes"}
DEFAULTS = {"API_RATE_LIMIT_PER_TOKEN": 600, "API_RATE_LIMIT_PER_USER": 1200, "API_RATE_LIMIT_WINDOW_SECONDS": 60}


def _limits(config: object) -> dict[str, int]:
    return {name: getattr(config, name) for name in DEFAULTS}


@pytest.mark.parametrize("config", [ProdConfig(GOOD), DevConfig({}), TestConfig], ids=["prod", "dev", "test"])
def test_every_configuration_limits_the_api_by_default(config):
    assert _limits(config) == DEFAULTS


@pytest.mark.parametrize("kind", [ProdConfig, DevConfig])
def test_set_from_the_environment(kind):
    env = {
        **GOOD,
        "API_RATE_LIMIT_PER_TOKEN": "50",
        "API_RATE_LIMIT_PER_USER": " 80 ",
        "API_RATE_LIMIT_WINDOW_SECONDS": "10",
    }
    assert _limits(kind(env)) == {
        "API_RATE_LIMIT_PER_TOKEN": 50,
        "API_RATE_LIMIT_PER_USER": 80,
        "API_RATE_LIMIT_WINDOW_SECONDS": 10,
    }


@pytest.mark.parametrize("kind", [ProdConfig, DevConfig])
@pytest.mark.parametrize("name", sorted(DEFAULTS))
@pytest.mark.parametrize("value", ["0", "-5", "many", "1.5", "1e3"])
def test_bad_values_refuse_to_start_with_a_fix(kind, name, value):
    with pytest.raises(
        ConfigError, match=rf"^{name}=.* is not a whole number above zero; set it like {name}={DEFAULTS[name]}$"
    ):
        kind({**GOOD, name: value})
