"""An external PostgreSQL (as a managed one would be): DATABASE_URL in .env, and no db service.

The database runs outside the swarm, in a container on the host's network
(so it is reached like a server elsewhere, through the tasks' route out),
on a free port. make swarm-deploy must leave out db.yml, and the notes must
land in that database.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator

import pytest
from tests.helpers.docker_env import free_port
from tests.helpers.stack import Account
from tests.helpers.swarm import FIRST_TAG, deployed_stack, docker


@pytest.fixture
def external_database(swarm: None) -> Iterator[tuple[str, str]]:
    """A PostgreSQL on the host's network: (the container, a DATABASE_URL the swarm's tasks can use)."""
    port, password = free_port(), secrets.token_urlsafe(18)
    container = f"notes-external-db-{uuid.uuid4().hex[:6]}"
    docker(
        "run", "-d", "--name", container, "--network", "host",
        "-e", "POSTGRES_USER=managed", "-e", f"POSTGRES_PASSWORD={password}", "-e", "POSTGRES_DB=notes_managed",
        "postgres:17", "-c", f"port={port}",
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while docker("exec", container, "pg_isready", "-p", str(port), check=False).returncode != 0:
            assert time.monotonic() < deadline, docker("logs", container, check=False).stderr[-2000:]
            time.sleep(1)
        # The host as the tasks see it: the gateway of their bridge out of the swarm.
        gateway = docker(
            "network", "inspect", "docker_gwbridge", "--format", "{{range .IPAM.Config}}{{.Gateway}}{{end}}"
        ).stdout.strip()
        yield container, f"postgresql://managed:{password}@{gateway}:{port}/notes_managed"
    finally:
        docker("rm", "-f", container, check=False)


def test_an_external_database_replaces_the_db_service(external_database: tuple[str, str]) -> None:
    container, url = external_database
    with deployed_stack(FIRST_TAG, DATABASE_URL=url) as stack:
        services = docker("stack", "services", "--format", "{{.Name}}", stack.name).stdout.split()
        assert sorted(services) == sorted([stack.service("nginx"), stack.service("web")]), services
        stack_secrets = docker("secret", "ls", "--format", "{{.Name}}", "--filter", f"name={stack.name}_").stdout
        assert "_database_url_" in stack_secrets and "_postgres_password_" not in stack_secrets
        account = Account(stack, f"managed-{uuid.uuid4().hex[:8]}@example.com")
        assert account.register().status_code == 302
        account.create_token()
        title = f"in the managed database {uuid.uuid4().hex[:8]}"
        made = account.api().post(stack.url("/api/v1/notes"), json={"title": title, "content": "x"}, timeout=30)
        assert made.status_code == 201, made.text
        port = url.rsplit(":", 1)[1].split("/")[0]
        psql = ("psql", "-U", "managed", "-d", "notes_managed", "-p", port, "-Atc")
        stored = docker("exec", container, *psql, "SELECT title FROM notes").stdout
        assert title in stored.splitlines()
