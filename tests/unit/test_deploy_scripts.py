"""The shell scripts around the Swarm stack refuse bad input before they start anything.

Their working paths run in the Swarm tier (tests/swarm); these are the
refusals, which need no Docker.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(script: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": os.environ["PATH"], **env}
    return subprocess.run(
        ["sh", str(script), *args], capture_output=True, text=True, env=clean, timeout=30, check=False
    )


def test_notes_serve_refuses_a_drain_that_is_not_whole_seconds() -> None:
    result = _run(ROOT / "web" / "serve.sh", {"DRAIN_SECONDS": "6s"})
    assert result.returncode == 2
    assert "DRAIN_SECONDS=6s is not a whole number" in result.stderr


def test_notes_serve_refuses_bad_migrate_attempts() -> None:
    result = _run(ROOT / "web" / "serve.sh", {"MIGRATE_ATTEMPTS": "many"})
    assert result.returncode == 2
    assert "MIGRATE_ATTEMPTS=many is not a whole number" in result.stderr


def test_db_entrypoint_refuses_a_password_given_both_ways(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("a-real-password")
    result = _run(
        ROOT / "db" / "entrypoint.sh",
        {"POSTGRES_PASSWORD": "x", "POSTGRES_PASSWORD_FILE": str(secret), "PGDATA": str(tmp_path / "data")},
        "postgres",
    )
    assert result.returncode == 1
    assert "both set; unset one of them" in result.stderr


def test_db_entrypoint_refuses_an_empty_password_file_on_first_start(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("")
    result = _run(
        ROOT / "db" / "entrypoint.sh",
        {"POSTGRES_PASSWORD_FILE": str(secret), "PGDATA": str(tmp_path / "data")},
        "postgres",
    )
    assert result.returncode == 1
    assert "is missing or empty" in result.stderr


@pytest.mark.parametrize("value", ["", "soon", "1min", "0", "00", "-5"])
def test_db_entrypoint_refuses_an_archive_timeout_that_is_not_whole_seconds(tmp_path: Path, value: str) -> None:
    result = _run(ROOT / "db" / "entrypoint.sh", {"PG_ARCHIVE_TIMEOUT": value, "PGDATA": str(tmp_path)}, "postgres")
    assert result.returncode == 1
    assert f"PG_ARCHIVE_TIMEOUT={value} is not a whole number of seconds above 0; set it in .env" in result.stderr


def _db_entrypoint_with_a_recording_base(tmp_path: Path, *args: str, **settings: str) -> list[str]:
    """Runs db/entrypoint.sh with a password file, the base image's entrypoint replaced by one that
    records each call: its arguments and the password variables it was given."""
    secret = tmp_path / "pw"
    secret.write_text("a-real-password")
    calls = tmp_path / "calls"
    base = tmp_path / "bin" / "docker-entrypoint.sh"
    base.parent.mkdir()
    record = "$* password=${POSTGRES_PASSWORD:-none} file=${POSTGRES_PASSWORD_FILE:-none}"
    base.write_text(f'#!/bin/sh\necho "{record}" >> {calls}\n')
    base.chmod(0o755)
    env = {"PATH": f"{base.parent}:{os.environ['PATH']}", "POSTGRES_PASSWORD_FILE": str(secret),
           "PGDATA": str(tmp_path / "data"), **settings}  # fmt: skip
    result = subprocess.run(
        ["sh", str(ROOT / "db" / "entrypoint.sh"), *args],
        capture_output=True, text=True, env=env, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return calls.read_text().splitlines()


def test_db_entrypoint_initialises_with_the_password_and_starts_the_server_without_it(tmp_path: Path) -> None:
    assert _db_entrypoint_with_a_recording_base(tmp_path, "postgres", "-c", "archive_mode=on") == [
        "postgres -c archive_mode=on -C data_directory password=a-real-password file=none",
        "postgres -c archive_mode=on password=none file=none",
    ]


def test_db_entrypoint_starts_with_a_whole_number_archive_timeout(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "PG_VERSION").write_text("17\n")
    started = _db_entrypoint_with_a_recording_base(
        tmp_path, "postgres", "-c", "archive_timeout=20", PG_ARCHIVE_TIMEOUT="20"
    )
    assert started == ["postgres -c archive_timeout=20 password=none file=none"]


def test_db_entrypoint_leaves_the_password_out_once_the_cluster_exists(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "PG_VERSION").write_text("17\n")
    assert _db_entrypoint_with_a_recording_base(tmp_path, "postgres") == ["postgres password=none file=none"]


def test_swarm_deploy_without_an_env_file_says_how_to_make_one(tmp_path: Path) -> None:
    result = _run(ROOT / "deploy" / "swarm" / "deploy.sh", {"ENV_FILE": str(tmp_path / "missing.env")})
    assert result.returncode == 1
    assert "not found; run `make .env`" in result.stderr


def test_swarm_deploy_refuses_a_malformed_env_line_by_number_without_echoing_it(tmp_path: Path) -> None:
    env_file = tmp_path / "bad.env"
    env_file.write_text("SERVER_NAME=notes.example.org\nsuper-secret-value-pasted-alone\n")
    result = _run(ROOT / "deploy" / "swarm" / "deploy.sh", {"ENV_FILE": str(env_file)})
    assert result.returncode == 1
    assert "line 2 is not KEY=VALUE" in result.stderr
    assert "super-secret" not in result.stderr


def test_swarm_deploy_keeps_the_drain_inside_the_stop_grace_period(tmp_path: Path) -> None:
    env_file = tmp_path / "ok.env"
    env_file.write_text("NOTES_IMAGE_TAG=v1\n")
    result = _run(ROOT / "deploy" / "swarm" / "deploy.sh", {"ENV_FILE": str(env_file), "DRAIN_SECONDS": "30"})
    assert result.returncode == 1
    assert "DRAIN_SECONDS=30 leaves gunicorn too little" in result.stderr
