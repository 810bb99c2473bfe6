"""REQUEST_QUEUE_TIMEOUT_MS: how long a request may wait for a worker before it is shed."""

from __future__ import annotations

import pytest

from app.config import BaseConfig, ConfigError, ProdConfig

GOOD = {
    "SECRET_KEY": "k" * 64,
    "DATABASE_URL": "postgresql+psycopg://notes:pw@db:5432/notes",
}


def test_one_second_by_default():
    assert ProdConfig(GOOD).REQUEST_QUEUE_TIMEOUT == 1.0
    assert BaseConfig.REQUEST_QUEUE_TIMEOUT == 1.0


@pytest.mark.parametrize(("value", "seconds"), [("250", 0.25), ("0", 0.0), (" 2000 ", 2.0)])
def test_set_in_milliseconds(value, seconds):
    assert seconds == ProdConfig({**GOOD, "REQUEST_QUEUE_TIMEOUT_MS": value}).REQUEST_QUEUE_TIMEOUT


@pytest.mark.parametrize("value", ["-5", "1.5", "one second", "1s", "2²"])
def test_bad_values_refuse_to_start_with_a_fix(value):
    with pytest.raises(ConfigError, match=r"REQUEST_QUEUE_TIMEOUT_MS=.*set it like REQUEST_QUEUE_TIMEOUT_MS=1000"):
        ProdConfig({**GOOD, "REQUEST_QUEUE_TIMEOUT_MS": value})
