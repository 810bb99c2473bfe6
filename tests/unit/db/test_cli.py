"""``flask deploy migrate``: refuse the placeholder password, wait for the database (bounded), then migrate."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from app import create_app


def _app(url: str) -> Flask:
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_placeholder_password_is_refused_before_anything_is_tried() -> None:
    app = _app(f"postgresql+psycopg://notes:change-me@127.0.0.1:{_closed_port()}/notes")
    result = app.test_cli_runner().invoke(args=["deploy", "migrate", "--attempts", "1", "--interval", "0"])
    assert result.exit_code == 1
    assert "placeholder from .env.example" in result.output
    assert "not ready" not in result.output  # refused before connecting


def test_an_unreachable_database_fails_after_the_attempts_allowed_with_what_to_check() -> None:
    app = _app(f"postgresql+psycopg://notes:a-real-random-password@127.0.0.1:{_closed_port()}/notes")
    result = app.test_cli_runner().invoke(args=["deploy", "migrate", "--attempts", "3", "--interval", "0"])
    assert result.exit_code == 1
    assert result.output.count("database not ready") == 3
    assert "unreachable after 3 attempts; check DATABASE_URL" in result.output


def test_bad_options_are_refused_with_a_usage_message() -> None:
    app = _app("sqlite:///:memory:")
    result = app.test_cli_runner().invoke(args=["deploy", "migrate", "--attempts", "0"])
    assert result.exit_code == 2
    assert "--attempts" in result.output


def test_a_reachable_database_is_migrated_to_the_newest_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'notes.db'}"
    result = _app(url).test_cli_runner().invoke(args=["deploy", "migrate", "--attempts", "1"])
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            assert {"users", "notes", "api_tokens", "alembic_version"} <= set(sa.inspect(conn).get_table_names())
            assert conn.scalar(sa.text("SELECT version_num FROM alembic_version")) is not None
    finally:
        engine.dispose()


@pytest.fixture
def prod_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """APP_ENV=prod with a good SECRET_KEY and no DATABASE_URL: each test gives DATABASE_URL_FILE."""
    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return monkeypatch


def test_the_database_url_may_come_from_a_file(tmp_path: Path, prod_env: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'notes.db'}"
    (tmp_path / "database_url").write_text(url + "\n", encoding="utf-8")
    prod_env.setenv("DATABASE_URL_FILE", str(tmp_path / "database_url"))
    result = create_app(None).test_cli_runner().invoke(args=["deploy", "migrate", "--attempts", "1"])
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT version_num FROM alembic_version")) is not None
    finally:
        engine.dispose()


def test_the_placeholder_password_in_a_database_url_file_is_refused(
    tmp_path: Path, prod_env: pytest.MonkeyPatch
) -> None:
    (tmp_path / "database_url").write_text(
        f"postgres://notes:change-me@127.0.0.1:{_closed_port()}/notes\n", encoding="utf-8"
    )
    prod_env.setenv("DATABASE_URL_FILE", str(tmp_path / "database_url"))
    result = create_app(None).test_cli_runner().invoke(args=["deploy", "migrate", "--attempts", "1", "--interval", "0"])
    assert result.exit_code == 1
    assert "placeholder from .env.example" in result.output
    assert "not ready" not in result.output


def test_deploy_check_refuses_the_placeholder_password_and_passes_real_settings() -> None:
    refused = (
        _app("postgresql+psycopg://notes:change-me@127.0.0.1:1/notes")
        .test_cli_runner()
        .invoke(args=["deploy", "check"])
    )
    assert refused.exit_code == 1
    assert "placeholder from .env.example" in refused.output
    passed = _app(f"postgresql+psycopg://notes:a-real-random-password@127.0.0.1:{_closed_port()}/notes")
    result = passed.test_cli_runner().invoke(args=["deploy", "check"])
    assert result.exit_code == 0, result.output
    assert "usable" in result.output
