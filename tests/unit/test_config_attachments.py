"""ATTACHMENTS_DIR, ATTACHMENT_MAX_MB, ATTACHMENT_QUOTA_MB and ATTACHMENTS_ACCEL_REDIRECT."""

from __future__ import annotations

import pytest

from app.config import BaseConfig, ConfigError, DevConfig, ProdConfig

GOOD = {
    "SECRET_KEY": "k" * 64,
    "DATABASE_URL": "postgresql+psycopg://notes:pw@db:5432/notes",
}
MIB = 1024 * 1024


def test_ten_mib_a_file_a_hundred_in_all_and_flask_sends_them_by_default():
    for config in (ProdConfig(GOOD), DevConfig({}), BaseConfig):
        assert (config.ATTACHMENT_MAX_BYTES, config.ATTACHMENT_QUOTA_BYTES) == (10 * MIB, 100 * MIB)
        assert config.ATTACHMENTS_ACCEL_REDIRECT == "" and config.ATTACHMENTS_DIR is None


def test_all_come_from_the_environment():
    config = ProdConfig(
        {
            **GOOD,
            "ATTACHMENTS_DIR": "/data/attachments",
            "ATTACHMENT_MAX_MB": "25",
            "ATTACHMENT_QUOTA_MB": "2048",
            "ATTACHMENTS_ACCEL_REDIRECT": "/_attachments/",
        }
    )
    assert config.ATTACHMENTS_DIR == "/data/attachments"
    assert (config.ATTACHMENT_MAX_BYTES, config.ATTACHMENT_QUOTA_BYTES) == (25 * MIB, 2048 * MIB)
    assert config.ATTACHMENTS_ACCEL_REDIRECT == "/_attachments/"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ATTACHMENT_MAX_MB": "0"}, "ATTACHMENT_MAX_MB='0' is not a whole number above zero"),
        ({"ATTACHMENT_QUOTA_MB": "1G"}, "set it like ATTACHMENT_QUOTA_MB=100"),
        ({"ATTACHMENT_MAX_MB": "50", "ATTACHMENT_QUOTA_MB": "20"}, "ATTACHMENT_QUOTA_MB is below ATTACHMENT_MAX_MB"),
        ({"ATTACHMENTS_ACCEL_REDIRECT": "_attachments"}, "slashes at both ends"),
        ({"ATTACHMENTS_ACCEL_REDIRECT": "/a b/"}, "not an nginx location path"),
    ],
)
def test_bad_values_refuse_to_start_with_a_fix(env, message):
    with pytest.raises(ConfigError, match=message):
        ProdConfig({**GOOD, **env})
