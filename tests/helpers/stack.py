"""The compose stack of tiers 4 and 5, and an account made in it through the real forms."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from tests.helpers.docker_env import free_port, write_stack_env

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
PASSWORD = "correct horse battery staple"
UP_TIMEOUT = 300  # seconds: a cold image build plus first start
CMD_TIMEOUT = 120


class Stack:
    """A running compose project plus helpers to reach it."""

    def __init__(
        self,
        project: str,
        env_file: Path,
        http_port: int,
        https_port: int,
        ca: Path,
        overrides: tuple[Path, ...] = (),
        root: Path = ROOT,
        prefix: str = "",
    ) -> None:
        """``root``: the checkout whose compose file and build contexts are used (another release's, say);
        ``prefix``: the stack's URL_PREFIX, which ``url`` puts before every path."""
        self.project = project
        self.root = root
        self.files = (root / COMPOSE_FILE.name, *overrides)
        self.env_file = env_file
        self.http_port = http_port
        self.https_port = https_port
        self.ca = str(ca)
        self.base = f"https://localhost:{https_port}"
        self.prefix = prefix

    def compose(self, *args: str, timeout: float = CMD_TIMEOUT, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `docker compose` for this project; raise with its output on failure."""
        cmd = [
            "docker",
            "compose",
            "-p",
            self.project,
            "--project-directory",
            str(self.root),
            *(arg for path in self.files for arg in ("-f", str(path))),
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

    def exec(self, service: str, *command: str, timeout: float = CMD_TIMEOUT) -> str:
        """Run ``command`` in ``service``'s container; its stdout. Raises AssertionError when it fails."""
        return self.compose("exec", "-T", service, *command, timeout=timeout).stdout

    def container_ids(self, service: str) -> list[str]:
        return self.compose("ps", "-q", service).stdout.split()

    def logs(self, service: str) -> str:
        return self.compose("logs", "--no-color", service).stdout

    def url(self, path: str) -> str:
        """The public URL of the app's ``path`` (under the stack's URL_PREFIX)."""
        return self.base + self.prefix + path

    def session(self) -> requests.Session:
        """A client that trusts only the stack's certificate and uses no proxy.

        Forms need a Referer: Flask-WTF checks it on HTTPS, as browsers send one.
        """
        s = requests.Session()
        s.trust_env = False  # REQUESTS_CA_BUNDLE or a proxy must not step in
        s.verify = self.ca
        s.headers["Referer"] = self.url("/")
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


_RID = re.compile(r"\brid=(\S+)")


def log_entries(log: str) -> list[dict[str, Any]]:
    """The JSON lines of a container log (`docker logs`, or `compose logs` with its "web-1  | " prefixes)."""
    entries = []
    for line in log.splitlines():
        body = line.split(" | ", 1)[1] if " | " in line and not line.startswith("{") else line
        body = body.strip()
        if body.startswith("{"):
            try:
                entries.append(json.loads(body))
            except ValueError:
                continue
    return entries


def access_request_ids(log: str) -> list[str]:
    """The request id of every access line in a web or nginx log, JSON (the stack's default) or text."""
    ids = [
        str(entry["request_id"])
        for entry in log_entries(log)
        if entry.get("logger") in ("gunicorn.access", "nginx.access", "notes.access") and entry.get("request_id")
    ]
    return ids + [found.group(1) for line in log.splitlines() if (found := _RID.search(line))]


# The API rate limits for stacks under load from one token: far above what the
# load sends, so the limiter's cost is measured but it never throttles.
UNTHROTTLED = {"API_RATE_LIMIT_PER_TOKEN": "10000000", "API_RATE_LIMIT_PER_USER": "10000000"}


@contextmanager
def started_stack(*overrides: Path, server_name: str = "localhost", **settings: str) -> Iterator[Stack]:
    """A throwaway compose project on free loopback ports, built and up (`--wait`).

    ``overrides`` are extra compose files laid over docker-compose.yml;
    ``settings`` go into its .env. Torn down with its volumes (`down -v`)
    however the block ends; under CI or STACK_KEEP_LOGS its last logs are
    printed first. Nothing here talks to it over HTTPS: see running_stack.
    """
    workdir = Path(tempfile.mkdtemp(prefix="notes-stack-"))
    project = f"notes-stack-{uuid.uuid4().hex[:8]}"
    http_port, https_port = free_port(), free_port()
    env_file = workdir / "stack.env"
    # The tier signs its accounts up through the real form. Docker checks
    # health every 2 s, not the default 5 s: each stack start and each
    # recovery the tests wait for is then seconds shorter.
    settings = {"REGISTRATION": "open", "HEALTHCHECK_INTERVAL": "2s", **settings}
    write_stack_env(
        env_file,
        http_port=http_port,
        https_port=https_port,
        image_tag="stack-test",
        server_name=server_name,
        **settings,
    )
    stack = Stack(
        project, env_file, http_port, https_port, workdir / "ca.pem", overrides, prefix=settings.get("URL_PREFIX", "")
    )
    try:
        stack.compose("build", timeout=UP_TIMEOUT)
        stack.up()
        yield stack
    finally:
        # Every profile: a service a test started by name (its profile not
        # named on the command line) is otherwise neither logged nor removed,
        # and its volumes and networks stay behind with it.
        try:
            if os.environ.get("STACK_KEEP_LOGS") or os.environ.get("CI") == "true":
                logs = stack.compose("--profile", "*", "logs", "--no-color", "--tail", "200", check=False)
                print(logs.stdout[-20000:])
        finally:
            stack.compose(
                "--profile", "*", "down", "-v", "--remove-orphans", "--timeout", "30", check=False, timeout=180
            )
            shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def running_stack(*overrides: Path, **settings: str) -> Iterator[Stack]:
    """started_stack for `localhost`, trusted through its self-signed certificate and ready.

    Its client (Stack.session) verifies against the certificate copied out of
    nginx, and /readyz answered 200 through nginx before the block starts.
    """
    with started_stack(*overrides, **settings) as stack:
        stack.compose("cp", "nginx:/etc/nginx/certs/fullchain.pem", stack.ca)
        stack.wait_ready()
        yield stack


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
