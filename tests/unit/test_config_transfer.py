"""IMPORT_MAX_NOTES, IMPORT_MAX_MB, IMPORTS_PER_WINDOW and EXPORTS_PER_WINDOW."""

from __future__ import annotations

import pytest

from app.config import BaseConfig, ConfigError, DevConfig, ProdConfig

GOOD = {
    "SECRET_KEY": "k" * 64,
    "DATABASE_URL": "postgresql+psycopg://notes:pw@db:5432/notes",
}
MIB = 1024 * 1024


def test_ten_thousand_notes_and_twenty_mib_an_import_by_default():
    for config in (ProdConfig(GOOD), DevConfig({}), BaseConfig):
        assert (config.IMPORT_MAX_NOTES, config.IMPORT_MAX_BYTES) == (10_000, 20 * MIB)
        assert (config.IMPORTS_PER_WINDOW, config.EXPORTS_PER_WINDOW) == (10, 30)


@pytest.mark.parametrize("kind", [ProdConfig, DevConfig])
def test_all_come_from_the_environment(kind):
    env = {"IMPORT_MAX_NOTES": "100000", "IMPORT_MAX_MB": "300", "IMPORTS_PER_WINDOW": "2", "EXPORTS_PER_WINDOW": "5"}
    config = kind({**GOOD, **env})
    assert (config.IMPORT_MAX_NOTES, config.IMPORT_MAX_BYTES) == (100_000, 300 * MIB)
    assert (config.IMPORTS_PER_WINDOW, config.EXPORTS_PER_WINDOW) == (2, 5)


@pytest.mark.parametrize("kind", [ProdConfig, DevConfig])
@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"IMPORT_MAX_NOTES": "0"},
            "IMPORT_MAX_NOTES='0' is not a whole number above zero; set it like IMPORT_MAX_NOTES=10000",
        ),
        ({"IMPORT_MAX_NOTES": "10k"}, "set it like IMPORT_MAX_NOTES=10000"),
        ({"IMPORT_MAX_MB": "-5"}, "IMPORT_MAX_MB='-5' is not a whole number above zero; set it like IMPORT_MAX_MB=20"),
        ({"IMPORT_MAX_MB": "1.5"}, "set it like IMPORT_MAX_MB=20"),
        ({"IMPORTS_PER_WINDOW": "none"}, "set it like IMPORTS_PER_WINDOW=10"),
        ({"EXPORTS_PER_WINDOW": "0"}, "set it like EXPORTS_PER_WINDOW=30"),
        # A digit to str.isdigit() but not to int(): still the message, not a traceback.
        ({"IMPORT_MAX_NOTES": "5²"}, "IMPORT_MAX_NOTES='5²' is not a whole number above zero"),
    ],
)
def test_bad_values_refuse_to_start_with_a_fix(kind, env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        kind({**GOOD, **env})
