"""REVISION_FOLD_SECONDS and REVISIONS_KEEP_DAYS: how a note's history folds and how long it is kept."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.config import BaseConfig, ConfigError, DevConfig, ProdConfig

GOOD = {
    "SECRET_KEY": "k" * 64,
    "DATABASE_URL": "postgresql+psycopg://notes:pw@db:5432/notes",
}


def test_two_minutes_and_keep_everything_by_default():
    for config in (ProdConfig(GOOD), DevConfig({}), BaseConfig):
        assert timedelta(minutes=2) == config.REVISION_FOLD_WINDOW
        assert config.REVISIONS_KEEP_DAYS is None


def test_both_come_from_the_environment():
    config = ProdConfig({**GOOD, "REVISION_FOLD_SECONDS": "0", "REVISIONS_KEEP_DAYS": "90"})
    assert (timedelta(0), 90) == (config.REVISION_FOLD_WINDOW, config.REVISIONS_KEEP_DAYS)
    assert timedelta(seconds=30) == DevConfig({"REVISION_FOLD_SECONDS": "30"}).REVISION_FOLD_WINDOW


@pytest.mark.parametrize(
    ("name", "value"), [("REVISIONS_KEEP_DAYS", "0"), ("REVISIONS_KEEP_DAYS", "-1"), ("REVISION_FOLD_SECONDS", "2m")]
)
def test_bad_values_refuse_to_start_with_a_fix(name, value):
    with pytest.raises(ConfigError, match=rf"{name}=.*set it like {name}="):
        ProdConfig({**GOOD, name: value})
