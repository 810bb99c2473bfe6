"""NAME_FILE: a secret read from a file (Docker Swarm's /run/secrets), checked like one from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.config import FILE_SETTINGS, ConfigError, DevConfig, ProdConfig, config_for_environment

GOOD_SECRET = "k" * 48
GOOD_URL = "postgresql+psycopg://notes:pw@db:5432/notes"
GOOD = {"SECRET_KEY": GOOD_SECRET, "DATABASE_URL": GOOD_URL}


def secret_file(tmp_path: Path, text: str, name: str = "secret") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def prod_error(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as info:
        ProdConfig(env)
    message = str(info.value)
    assert "\n" not in message, "the message must fit on one log line"
    return message


def test_the_secret_key_and_database_url_are_read_from_their_files(tmp_path):
    # Files written with echo or an editor end in a newline, which is not part of the secret.
    env = {
        "SECRET_KEY_FILE": secret_file(tmp_path, GOOD_SECRET + "\n", "key"),
        "DATABASE_URL_FILE": secret_file(tmp_path, f"  {GOOD_URL}\r\n", "url"),
    }
    config = ProdConfig(env)
    assert config.SECRET_KEY == GOOD_SECRET
    assert config.SQLALCHEMY_DATABASE_URI == GOOD_URL


def test_every_secret_setting_may_come_from_a_file(tmp_path):
    env = {
        **GOOD,
        "TRUSTED_HOSTS": "notes.example.com",
        "MAIL_SERVER": "smtp.example.org",
        "OIDC_ISSUER": "https://sso.example.com",
        "OIDC_CLIENT_ID": "notes",
        "ENCRYPTION_KEY_FILE": secret_file(tmp_path, "e" * 40 + "\n", "enc"),
        "MAIL_PASSWORD_FILE": secret_file(tmp_path, "smtp-pass\n", "mail"),
        "OIDC_CLIENT_SECRET_FILE": secret_file(tmp_path, "oidc-secret\n", "oidc"),
    }
    config = ProdConfig(env)
    assert config.ENCRYPTION_KEY == "e" * 40
    assert config.MAIL_PASSWORD == "smtp-pass"
    assert config.OIDC_CLIENT_SECRET == "oidc-secret"
    assert set(FILE_SETTINGS) == {"SECRET_KEY", "DATABASE_URL", "ENCRYPTION_KEY", "MAIL_PASSWORD", "OIDC_CLIENT_SECRET"}


def test_dev_reads_files_too(tmp_path):
    config = DevConfig({"SECRET_KEY_FILE": secret_file(tmp_path, "dev-key-from-a-file\n")})
    assert config.SECRET_KEY == "dev-key-from-a-file"


def test_config_for_environment_reads_the_process_environment_files(tmp_path, monkeypatch):
    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SECRET_KEY_FILE", secret_file(tmp_path, GOOD_SECRET, "key"))
    monkeypatch.setenv("DATABASE_URL_FILE", secret_file(tmp_path, GOOD_URL, "url"))
    config = config_for_environment()
    assert config.SECRET_KEY == GOOD_SECRET
    assert "SECRET_KEY" not in os.environ, "the process environment itself is left alone"


@pytest.mark.parametrize("scheme", ["postgres://", "postgresql://"])
def test_a_database_url_from_a_file_is_normalised_like_one_from_the_environment(tmp_path, scheme):
    env = {"SECRET_KEY": GOOD_SECRET, "DATABASE_URL_FILE": secret_file(tmp_path, scheme + "u:p@h:5432/d\n")}
    assert ProdConfig(env).SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u:p@h:5432/d"


@pytest.mark.parametrize("name", FILE_SETTINGS)
def test_a_setting_and_its_file_both_set_are_refused(tmp_path, name):
    env = {**GOOD, name: "x" * 40, f"{name}_FILE": secret_file(tmp_path, "y" * 40)}
    message = prod_error(env)
    assert f"{name} and {name}_FILE are both set; unset one of them" in message


def test_an_empty_variable_beside_its_file_counts_as_unset(tmp_path):
    # Compose files pass "${SECRET_KEY:-}", which is empty when only the file is given.
    env = {"SECRET_KEY": "", "SECRET_KEY_FILE": secret_file(tmp_path, GOOD_SECRET), "DATABASE_URL": GOOD_URL}
    assert ProdConfig(env).SECRET_KEY == GOOD_SECRET


def test_a_missing_file_is_refused_naming_the_path_and_why(tmp_path):
    missing = str(tmp_path / "no-such-secret")
    message = prod_error({"SECRET_KEY_FILE": missing, "DATABASE_URL": GOOD_URL})
    assert f"SECRET_KEY_FILE={missing!r} cannot be read (No such file or directory)" in message
    assert "/run/secrets/secret_key" in message


def test_a_directory_is_refused_naming_the_path_and_why(tmp_path):
    message = prod_error({**GOOD, "MAIL_PASSWORD_FILE": str(tmp_path)})
    assert f"MAIL_PASSWORD_FILE={str(tmp_path)!r} cannot be read (Is a directory)" in message


def test_a_file_that_is_not_text_is_refused(tmp_path):
    path = tmp_path / "binary"
    path.write_bytes(b"\xff\xfe\x00secret")
    message = prod_error({"SECRET_KEY_FILE": str(path), "DATABASE_URL": GOOD_URL})
    assert "is not UTF-8 text" in message


@pytest.mark.parametrize("text", ["", "\n", "  \n\t"])
def test_an_empty_file_is_refused(tmp_path, text):
    path = secret_file(tmp_path, text)
    message = prod_error({"SECRET_KEY_FILE": path, "DATABASE_URL": GOOD_URL})
    assert f"SECRET_KEY_FILE={path!r} is empty; write SECRET_KEY into it" in message


def test_a_placeholder_in_a_file_is_refused_like_one_in_the_environment(tmp_path):
    placeholder = "replace-me-with-a-long-random-string-of-64-characters-or-more"
    message = prod_error({"SECRET_KEY_FILE": secret_file(tmp_path, placeholder + "\n"), "DATABASE_URL": GOOD_URL})
    assert "SECRET_KEY is the placeholder from .env.example" in message


def test_a_short_secret_key_in_a_file_is_refused(tmp_path):
    message = prod_error({"SECRET_KEY_FILE": secret_file(tmp_path, "short\n"), "DATABASE_URL": GOOD_URL})
    assert "SECRET_KEY is 5 characters, needs at least 32" in message


def test_a_weak_encryption_key_in_a_file_is_refused(tmp_path):
    message = prod_error({**GOOD, "ENCRYPTION_KEY_FILE": secret_file(tmp_path, "change-me\n")})
    assert "ENCRYPTION_KEY must be at least 32 characters" in message
