"""Session timeouts are configurable in production through the environment."""

from datetime import timedelta

import pytest

from app.config import ConfigError, ProdConfig

GOOD = {"SECRET_KEY": "k" * 48, "DATABASE_URL": "postgresql://u:p@db/notes"}


def test_defaults():
    config = ProdConfig(GOOD)
    assert timedelta(hours=2) == config.SESSION_IDLE_TIMEOUT
    assert timedelta(days=30) == config.SESSION_ABSOLUTE_TIMEOUT


def test_set_from_the_environment():
    config = ProdConfig({**GOOD, "SESSION_IDLE_MINUTES": "15", "SESSION_ABSOLUTE_DAYS": "7"})
    assert timedelta(minutes=15) == config.SESSION_IDLE_TIMEOUT
    assert timedelta(days=7) == config.SESSION_ABSOLUTE_TIMEOUT
    # A remember-me cookie never outlives the session it stands for.
    assert timedelta(days=7) == config.REMEMBER_COOKIE_DURATION


@pytest.mark.parametrize("value", ["0", "-5", "ten", "1.5"])
def test_bad_values_refuse_to_start_with_a_fix(value):
    with pytest.raises(ConfigError, match=r"SESSION_IDLE_MINUTES=.*set it like SESSION_IDLE_MINUTES=120"):
        ProdConfig({**GOOD, "SESSION_IDLE_MINUTES": value})
