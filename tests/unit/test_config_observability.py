"""LOG_FORMAT (text or json) and METRICS_PORT (the metrics listener; 0 is none)."""

from __future__ import annotations

import pytest

from app.config import ConfigError, DevConfig, ProdConfig

GOOD = {
    "SECRET_KEY": "k" * 64,
    "DATABASE_URL": "postgresql+psycopg://notes:pw@db:5432/notes",
}


def test_production_logs_json_and_a_laptop_text_by_default():
    assert ProdConfig(GOOD).LOG_FORMAT == "json"
    assert DevConfig({}).LOG_FORMAT == "text"


@pytest.mark.parametrize(("value", "expected"), [("json", "json"), ("TEXT", "text"), (" json ", "json")])
def test_log_format_is_read(value, expected):
    assert expected == ProdConfig({**GOOD, "LOG_FORMAT": value}).LOG_FORMAT
    assert expected == DevConfig({"LOG_FORMAT": value}).LOG_FORMAT


def test_an_unknown_log_format_refuses_to_start():
    with pytest.raises(ConfigError, match="LOG_FORMAT='logfmt': use LOG_FORMAT=json or LOG_FORMAT=text"):
        ProdConfig({**GOOD, "LOG_FORMAT": "logfmt"})


def test_no_metrics_unless_a_port_is_given():
    assert ProdConfig(GOOD).METRICS_PORT == 0
    assert ProdConfig({**GOOD, "METRICS_PORT": "9100"}).METRICS_PORT == 9100


@pytest.mark.parametrize("value", ["-1", "http", "70000"])
def test_a_bad_metrics_port_refuses_to_start(value):
    with pytest.raises(ConfigError, match="METRICS_PORT"):
        ProdConfig({**GOOD, "METRICS_PORT": value})
