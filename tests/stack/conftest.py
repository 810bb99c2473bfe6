"""Tier 4: the real docker compose stack, talked to over HTTPS on loopback.

One stack per test session, under a unique project name, on free ports and
its own frontend subnet, so it never touches a stack started with `make up`.
It is torn down with its volumes (`down -v`) however the session ends.

Without Docker the tier is skipped with a message saying how to enable it;
under CI=true a missing Docker fails instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from .docker_env import docker_problem, free_port, write_stack_env

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
PASSWORD = "correct horse battery staple"
UP_TIMEOUT = 300  # seconds: a cold image build plus first start
CMD_TIMEOUT = 120


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test here `stack`; outside CI, run them only when asked for.

    `make test-stack` selects them with `-m stack`. A bare `pytest` would
    otherwise build images and start containers as a side effect.
    """
    here = Path(__file__).parent
    selected = "stack" in (config.option.markexpr or "")
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.stack)
            if not selected and os.environ.get("CI") != "true":
                item.add_marker(pytest.mark.skip(reason="tier 4 (compose stack) runs with `make test-stack`"))


class Stack:
    """A running compose project plus helpers to reach it."""

    def __init__(self, project: str, env_file: Path, http_port: int, https_port: int, ca: Path) -> None:
        self.project = project
        self.env_file = env_file
        self.http_port = http_port
        self.https_port = https_port
        self.ca = str(ca)
        self.base = f"https://localhost:{https_port}"

    def compose(self, *args: str, timeout: float = CMD_TIMEOUT, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `docker compose` for this project; raise with its output on failure."""
        cmd = [
            "docker",
            "compose",
            "-p",
            self.project,
            "--project-directory",
            str(ROOT),
            "-f",
            str(COMPOSE_FILE),
            "--env-file",
            str(self.env_file),
            *args,
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def up(self, *extra: str) -> None:
        self.compose("up", "-d", "--wait", "--wait-timeout", str(UP_TIMEOUT), *extra, timeout=UP_TIMEOUT + 60)

    def container_ids(self, service: str) -> list[str]:
        return self.compose("ps", "-q", service).stdout.split()

    def logs(self, service: str) -> str:
        return self.compose("logs", "--no-color", service).stdout

    def url(self, path: str) -> str:
        return self.base + path

    def session(self) -> requests.Session:
        """A client that trusts only the stack's certificate and uses no proxy.

        Forms need a Referer: Flask-WTF checks it on HTTPS, as browsers send one.
        """
        s = requests.Session()
        s.trust_env = False  # REQUESTS_CA_BUNDLE or a proxy must not step in
        s.verify = self.ca
        s.headers["Referer"] = self.base + "/"
        return s

    def wait_ready(self, timeout: float = 90) -> None:
        """Until /readyz answers 200 through nginx (app and database up)."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = self.session().get(self.url("/readyz"), timeout=5)
                if last.status_code == 200:
                    return
            except requests.RequestException as exc:
                last = exc
            time.sleep(1)
        raise AssertionError(f"stack not ready after {timeout}s: {last!r}")


@pytest.fixture(scope="session")
def compose_available() -> None:
    """Skip without Docker and Compose v2, or fail under CI=true, where skipping would hide the tier."""
    problem = docker_problem()
    if problem:
        message = f"Docker with Compose v2 is needed for tier 4 ({problem})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must provide it", pytrace=False)
        pytest.skip(message + "; install Docker Engine and the compose plugin, then run `make test-stack`")


@pytest.fixture(scope="session")
def stack(compose_available: None) -> Iterator[Stack]:

    workdir = Path(tempfile.mkdtemp(prefix="notes-stack-"))
    project = f"notes-stack-{uuid.uuid4().hex[:8]}"
    http_port, https_port = free_port(), free_port()
    env_file = workdir / "stack.env"
    # Short enough that the stop-during-writes test stays quick.
    write_stack_env(
        env_file, http_port=http_port, https_port=https_port, image_tag="stack-test", GUNICORN_GRACEFUL_TIMEOUT="10"
    )
    stack = Stack(project, env_file, http_port, https_port, workdir / "ca.pem")
    try:
        stack.compose("build", timeout=UP_TIMEOUT)
        stack.up()
        stack.compose("cp", "nginx:/etc/nginx/certs/fullchain.pem", stack.ca)
        stack.wait_ready()
        yield stack
    finally:
        try:
            if os.environ.get("STACK_KEEP_LOGS") or os.environ.get("CI") == "true":
                print(stack.compose("logs", "--no-color", "--tail", "200", check=False).stdout[-20000:])
        finally:
            stack.compose("down", "-v", "--remove-orphans", "--timeout", "30", check=False, timeout=180)
            shutil.rmtree(workdir, ignore_errors=True)


# --- an account with an API token, made through the real forms ---------------

_CSRF_INPUT = re.compile(r"<input[^>]*\bname=\"csrf_token\"[^>]*>")
_VALUE = re.compile(r"\bvalue=\"([^\"]+)\"")
_META = re.compile(r"<meta name=\"csrf-token\" content=\"([^\"]+)\"")
_NEW_TOKEN = re.compile(r"<code id=\"new-token\">([^<]+)</code>")


def csrf_from(html: str) -> str:
    """The CSRF token of a page: the form's hidden input, else the meta tag."""
    tag = _CSRF_INPUT.search(html)
    if tag and (value := _VALUE.search(tag.group(0))):
        return value.group(1)
    meta = _META.search(html)
    assert meta, "page carries no CSRF token"
    return meta.group(1)


class Account:
    def __init__(self, stack: Stack, email: str) -> None:
        self.stack = stack
        self.email = email
        self.browser = stack.session()
        self.token = ""

    def register(self) -> requests.Response:
        page = self.browser.get(self.stack.url("/auth/register"), timeout=10)
        form = {"csrf_token": csrf_from(page.text), "email": self.email, "password": PASSWORD, "confirm": PASSWORD}
        return self.browser.post(self.stack.url("/auth/register"), data=form, allow_redirects=False, timeout=15)

    def login(self) -> requests.Response:
        page = self.browser.get(self.stack.url("/auth/login"), timeout=10)
        form = {"csrf_token": csrf_from(page.text), "email": self.email, "password": PASSWORD}
        return self.browser.post(self.stack.url("/auth/login"), data=form, allow_redirects=False, timeout=15)

    def create_token(self, name: str = "stack test") -> str:
        page = self.browser.get(self.stack.url("/account/"), timeout=10)
        form = {
            "csrf_token": csrf_from(page.text),
            "name": name,
            "scope": "write",
            "expires_in_days": "",
            "password": PASSWORD,
        }
        response = self.browser.post(self.stack.url("/account/tokens"), data=form, timeout=15)
        assert response.status_code in (200, 201), response.text[:500]
        found = _NEW_TOKEN.search(response.text)
        assert found, "the account page did not show the new token"
        self.token = found.group(1).strip()
        return self.token

    def api(self) -> requests.Session:
        """A client authenticated with the bearer token only (no cookies)."""
        s = self.stack.session()
        s.headers["Authorization"] = f"Bearer {self.token}"
        return s


@pytest.fixture(scope="session")
def account(stack: Stack) -> Account:
    """A registered, logged-in account with a write token, shared by the tier."""
    acct = Account(stack, f"stack-{uuid.uuid4().hex[:8]}@example.com")
    assert acct.register().status_code == 302
    acct.create_token()
    return acct
