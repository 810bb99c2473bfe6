"""docker-compose.yml hands the web container every gunicorn setting the README documents.

A variable compose does not list never reaches the container, however it is
set in .env: the README would promise a knob the stack ignores.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Fixed by the stack itself: gunicorn must listen where nginx's upstream
# points, and trust X-Forwarded-* from nginx's subnet only.
SET_BY_THE_STACK = {"GUNICORN_BIND", "FORWARDED_ALLOW_IPS"}


def documented_settings(used_by: str) -> list[str]:
    """The variables of the README's configuration table whose "Used by" is ``used_by``."""
    names = []
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[1] == used_by:
            names += re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[0])
    return names


def documented_gunicorn_settings() -> list[str]:
    return documented_settings("gunicorn")


def rendered_compose(env: dict[str, str]) -> dict[str, Any]:
    """docker-compose.yml as compose reads it with ``env`` (and the required secrets) set."""
    env = {
        **os.environ,
        "SECRET_KEY": "compose-config-test-" + "x" * 40,
        "POSTGRES_PASSWORD": "compose-config-test-password",
        **env,
    }
    compose = ["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "--env-file", os.devnull]
    rendered = subprocess.run(
        [*compose, "config", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    ).stdout
    loaded: dict[str, Any] = json.loads(rendered)
    return loaded


def test_the_readme_documents_gunicorn_settings() -> None:
    assert {"WEB_CONCURRENCY", "GUNICORN_MAX_REQUESTS", "GUNICORN_KEEPALIVE"} <= set(documented_gunicorn_settings())


def test_every_documented_gunicorn_setting_reaches_the_web_container(compose_available: None) -> None:
    wanted = {name: f"7{i}" for i, name in enumerate(documented_gunicorn_settings()) if name not in SET_BY_THE_STACK}
    web_env = rendered_compose(wanted)["services"]["web"]["environment"]

    missing = {name: value for name, value in wanted.items() if web_env.get(name) != value}
    assert not missing, f"set in the environment but not passed to web by docker-compose.yml: {sorted(missing)}"


def test_every_documented_acme_setting_reaches_the_acme_container(compose_available: None) -> None:
    documented = documented_settings("acme")
    assert {"ACME", "ACME_EMAIL", "ACME_DIRECTORY"} <= set(documented)
    wanted = {name: f"value-{i}" for i, name in enumerate(documented)}
    acme_env = rendered_compose(wanted)["services"]["acme"]["environment"]

    missing = {name: value for name, value in wanted.items() if acme_env.get(name) != value}
    assert not missing, f"set in the environment but not passed to acme by docker-compose.yml: {sorted(missing)}"


def test_acme_is_off_unless_asked_for_and_nothing_holds_the_docker_socket(compose_available: None) -> None:
    services = rendered_compose({})["services"]
    assert services["acme"]["environment"]["ACME"] == "off"
    mounts = [
        (name, str(volume.get("source", "")))
        for name, service in services.items()
        for volume in service.get("volumes", [])
    ]
    assert not [mount for mount in mounts if "docker.sock" in mount[1]], mounts
    # The ACME client reaches the CA on a network of its own, not on frontend
    # (whose addresses gunicorn trusts for X-Forwarded-*).
    assert set(services["acme"]["networks"]) == {"acme-egress"}


def test_every_documented_backup_setting_reaches_its_container(compose_available: None) -> None:
    both = documented_settings("db, backup")
    documented = documented_settings("backup") + both
    assert {"BACKUP_FULL_EVERY_HOURS", "RESTIC_PASSWORD", "PGBACKREST_REPO1_RETENTION_FULL"} <= set(documented)
    # OFFSITE_VOLUME is a mount, not a variable: a host directory here.
    wanted = {name: f"value-{i}" for i, name in enumerate(documented) if name != "OFFSITE_VOLUME"}
    services = rendered_compose({**wanted, "OFFSITE_VOLUME": "/srv/notes-offsite"})["services"]

    for service, names in (("backup", [n for n in documented if n in wanted]), ("db", both)):
        env = services[service]["environment"]
        missing = [name for name in names if env.get(name) != wanted[name]]
        assert not missing, f"set in the environment but not passed to {service} by docker-compose.yml: {missing}"
    mounts = {str(v.get("target")): str(v.get("source")) for v in services["backup"]["volumes"]}
    assert mounts["/offsite"] == "/srv/notes-offsite"


def test_postgres_archives_wal_and_the_backup_service_reaches_no_database_network(compose_available: None) -> None:
    services = rendered_compose({})["services"]
    command = " ".join(services["db"]["command"])
    archiving = ("archive_mode=on", "archive_command=pgbackrest --stanza=notes archive-push %p", "archive_timeout=60")
    for setting in archiving:
        assert setting in command
    db = rendered_compose({"PG_ARCHIVE_TIMEOUT": "15"})["services"]["db"]
    # The same value where db/entrypoint.sh checks it and where PostgreSQL reads it.
    assert "archive_timeout=15" in " ".join(db["command"]) and db["environment"]["PG_ARCHIVE_TIMEOUT"] == "15"
    assert "PG_ARCHIVE_TIMEOUT" in documented_settings("db")
    # The repository and the socket directory are shared; the network is not.
    db_volumes = {str(v.get("source")) for v in services["db"]["volumes"]}
    backup_volumes = {str(v.get("source")) for v in services["backup"]["volumes"]}
    assert {"pgdata", "pgbackrest", "pgrun"} <= db_volumes & backup_volumes
    assert set(services["backup"]["networks"]) == {"offsite"}
    assert "offsite" not in services["db"]["networks"] and "backend" not in services["backup"]["networks"]


@pytest.mark.parametrize("name", sorted(SET_BY_THE_STACK))
def test_settings_fixed_by_the_stack_are_documented(name: str) -> None:
    assert name in documented_gunicorn_settings()


def test_every_documented_nginx_setting_reaches_the_nginx_container(compose_available: None) -> None:
    documented = documented_settings("nginx")
    assert {"NGINX_AUTH_RATE_PER_MINUTE", "NGINX_SHARE_RATE_PER_MINUTE", "NGINX_UPSTREAM_MAX_CONNS"} <= set(documented)
    wanted = {name: str(70 + i) for i, name in enumerate(documented)}
    nginx_env = rendered_compose(wanted)["services"]["nginx"]["environment"]

    missing = {name: value for name, value in wanted.items() if nginx_env.get(name) != value}
    assert not missing, f"set in the environment but not passed to nginx by docker-compose.yml: {sorted(missing)}"


def test_the_attachment_limits_reach_web_and_its_files_are_a_volume_nginx_reads(compose_available: None) -> None:
    services = rendered_compose({"ATTACHMENT_MAX_MB": "25", "ATTACHMENT_QUOTA_MB": "500"})["services"]
    web_env = services["web"]["environment"]
    assert (web_env["ATTACHMENT_MAX_MB"], web_env["ATTACHMENT_QUOTA_MB"]) == ("25", "500")
    web_files = {v["target"]: v for v in services["web"]["volumes"]}["/data/attachments"]
    nginx_files = {v["target"]: v for v in services["nginx"]["volumes"]}["/srv/attachments"]
    assert web_files["source"] == nginx_files["source"] == "attachments"
    assert nginx_files.get("read_only") is True and not web_files.get("read_only")


def test_the_import_and_export_limits_reach_web(compose_available: None) -> None:
    wanted = {
        "IMPORT_MAX_NOTES": "100000",
        "IMPORT_MAX_MB": "300",
        "IMPORTS_PER_WINDOW": "3",
        "EXPORTS_PER_WINDOW": "4",
    }
    web_env = rendered_compose(wanted)["services"]["web"]["environment"]
    assert {name: web_env.get(name) for name in wanted} == wanted


def test_the_health_check_interval_applies_to_the_database_web_and_nginx(compose_available: None) -> None:
    assert "HEALTHCHECK_INTERVAL" in documented_settings("db, web, nginx")
    checked = ("db", "web", "nginx")
    default = rendered_compose({})["services"]
    assert {name: default[name]["healthcheck"]["interval"] for name in checked} == dict.fromkeys(checked, "5s")
    fast = rendered_compose({"HEALTHCHECK_INTERVAL": "2s"})["services"]
    assert {name: fast[name]["healthcheck"]["interval"] for name in checked} == dict.fromkeys(checked, "2s")
    # web's and nginx's keep their images' checks: compose sets the interval alone.
    assert "test" not in fast["web"]["healthcheck"] and "test" not in fast["nginx"]["healthcheck"]

    with pytest.raises(subprocess.CalledProcessError) as refused:
        rendered_compose({"HEALTHCHECK_INTERVAL": "5"})
    assert 'healthcheck.interval\' time: missing unit in duration "5"' in refused.value.stderr
