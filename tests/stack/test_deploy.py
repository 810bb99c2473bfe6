"""`make deploy` to a server over SSH, tested against a "VPS in a box".

The box (tests/stack/vps/) is a fresh Debian server: its own Docker engine
and an SSH server, reached only over loopback, with nothing of the project
on it. A real VPS pulls the base images from Docker Hub; this machine has no
registry, so the test hands the box the local stand-ins with `docker save`
before the first deploy. Everything else is what a user runs: `make deploy`
twice (the second an upgrade in place), then the service answers over HTTPS
and keeps its data, its .env never leaves the server, and no container
bind-mounts a file of the uploaded checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers.stack import ROOT, Account, Stack
from tests.helpers.vps import Box, running_box

# The base images the project's Dockerfiles and compose file name.
BASE_IMAGES = ("python:3.13-slim", "postgres:17", "nginx:1.26")
DEPLOY_TIMEOUT = 900  # seconds: a cold build of every image inside the box


class DeployBox(Box):
    """A box that `make deploy` deploys to."""

    def deploy(self, *settings: str) -> subprocess.CompletedProcess[str]:
        """`make deploy` from the checkout, as its README says."""
        return subprocess.run(
            [
                "make",
                "-C",
                str(ROOT),
                "deploy",
                "TO=root@127.0.0.1",
                f"SSH={self.ssh_command}",
                f"SET={' '.join(settings)}",
            ],
            capture_output=True,
            text=True,
            timeout=DEPLOY_TIMEOUT,
            check=False,
        )


@pytest.fixture(scope="module")
def box() -> Iterator[DeployBox]:
    # What Docker Hub would give a real server.
    with running_box(*BASE_IMAGES) as plain:
        box = DeployBox(plain.name, plain.key, plain.ssh_port, plain.https_port)
        yield box


def _https(box: Box, workdir: Path) -> Stack:
    """A client for the box's HTTPS port that trusts the certificate the stack made for itself."""
    ca = workdir / "ca.pem"
    ca.write_text(box.ssh("cd notes/app && docker compose exec -T nginx cat /etc/nginx/certs/fullchain.pem"))
    env = workdir / "unused.env"
    env.write_text("")
    stack = Stack("remote", env, 0, box.https_port, ca)
    stack.wait_ready(timeout=60)
    return stack


def test_deploy_then_upgrade_in_place_over_ssh(box: DeployBox, tmp_path: Path) -> None:
    # The box publishes its HTTPS on the loopback port of the same number, so
    # the URLs the app makes (redirects, the CSRF referrer check) are right.
    first = box.deploy("SERVER_NAME=localhost", f"HTTPS_PORT={box.https_port}", "REGISTRATION=open")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "created" in first.stdout and f"Notes is running at https://localhost:{box.https_port}/" in first.stdout

    stack = _https(box, tmp_path)
    account = Account(stack, f"deploy-{uuid.uuid4().hex[:8]}@example.com")
    assert account.register().status_code == 302
    account.create_token()
    made = account.api().post(stack.url("/api/v1/notes"), json={"title": "Before the upgrade", "content": "kept"})
    assert made.status_code == 201

    env_before = box.ssh("cat notes/.env")
    settings = dict(line.split("=", 1) for line in env_before.splitlines() if line and not line.startswith("#"))
    example = (ROOT / ".env.example").read_text()
    for secret in ("SECRET_KEY", "POSTGRES_PASSWORD"):  # fresh, made on the box
        assert len(settings[secret]) >= 32 and f"{secret}={settings[secret]}" not in example

    # The second run is an upgrade in place; a setting given now lands in the kept .env.
    second = box.deploy("NGINX_AUTH_RATE_PER_MINUTE=20")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    env_after = box.ssh("cat notes/.env")
    assert env_after.replace("NGINX_AUTH_RATE_PER_MINUTE=20\n", "") == env_before
    stack.wait_ready(timeout=60)
    note = account.api().get(stack.url(f"/api/v1/notes/{made.json()['id']}"), timeout=15)
    assert note.status_code == 200 and note.json()["content"] == "kept"
    # The session cookie too: the secret key did not change.
    assert account.browser.get(stack.url("/account/"), allow_redirects=False, timeout=15).status_code == 200

    # Everything the containers need is in their images or named volumes.
    ids = box.ssh("docker ps -aq").split()
    mounts = json.loads(box.ssh("docker inspect " + " ".join(ids)))
    binds = [(c["Name"], m["Source"]) for c in mounts for m in c["Mounts"] if m["Type"] == "bind"]
    assert binds == [], binds
    health = {c["Name"]: c["State"].get("Health", {}).get("Status") for c in mounts if c["State"]["Running"]}
    assert all(status in (None, "healthy") for status in health.values()), health


def test_deploy_without_a_host_says_how(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("TO", "SET")}
    result = subprocess.run(
        ["make", "-C", str(ROOT), "-s", "deploy"], capture_output=True, text=True, check=False, env=env
    )
    assert result.returncode != 0
    assert "usage: make deploy TO=user@server" in result.stderr


def test_a_malformed_setting_changes_nothing_on_the_box(box: DeployBox) -> None:
    before = box.ssh("cat notes/.env 2>/dev/null || true")
    result = box.deploy("not a setting")
    assert result.returncode != 0
    assert "is not KEY=VALUE" in result.stderr
    assert box.ssh("cat notes/.env 2>/dev/null || true") == before
