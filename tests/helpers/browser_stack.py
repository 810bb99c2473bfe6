"""A throwaway docker compose stack for the browser tier's second mode
(BROWSER_STACK=1): the journeys run against nginx over HTTPS, as users see it.

The same approach as tests/stack/conftest.py (kept separate so the tiers do
not import each other's conftest): a unique project name, free loopback ports,
a frontend subnet no other network uses, and `down -v` however the run ends.

It starts with the compose file's `mail` profile: the web container mails its
reset links to the catcher (MAIL_SERVER=mail, MAIL_PORT=1025), and the tests
read them from the catcher's HTTP API, published on the host's 127.0.0.1 only.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from tests.helpers.docker_env import free_port, write_stack_env
from tests.helpers.mail import CatcherInbox

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
UP_TIMEOUT = 300  # seconds: a cold image build plus first start


def _wait_ready(base: str, ca: Path, timeout: float = 90) -> None:
    """Until /readyz answers 200 through nginx, trusting only the stack's certificate."""
    context = ssl.create_default_context(cafile=str(ca))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            with opener.open(base + "/readyz", timeout=5) as response:
                if response.status == 200:
                    return
                last = response.status
        except OSError as exc:
            last = exc
        time.sleep(1)
    raise RuntimeError(f"stack not ready after {timeout}s: {last!r}")


class Stack(NamedTuple):
    """A running stack: its https://localhost:<port> base URL; a function that runs
    `flask <args>` in its web container and returns the output (how the journeys
    make an administrator, as an operator would); and what it mailed."""

    url: str
    flask: Callable[..., str]
    mail: CatcherInbox


@contextmanager
def compose_stack(registration: str = "open") -> Iterator[Stack]:
    """Build and start the stack, with REGISTRATION=``registration``, and yield it."""
    workdir = Path(tempfile.mkdtemp(prefix="notes-browser-stack-"))
    project = f"notes-browser-{uuid.uuid4().hex[:8]}"
    https_port = free_port()
    mail_port = free_port()
    env_file = workdir / "stack.env"
    write_stack_env(
        env_file,
        http_port=free_port(),
        https_port=https_port,
        image_tag="browser-test",
        # Most journeys sign their accounts up through the real form (open).
        REGISTRATION=registration,
        # The journeys' browsers all come from one address and log in more
        # often than a person would: nginx's brake on credential POSTs would
        # refuse them (tests/stack/test_edge.py tests it at its default).
        NGINX_AUTH_RATE_PER_MINUTE="600",
        # Reset links go to the `mail` profile's catcher, as the compose file documents.
        MAIL_SERVER="mail",
        MAIL_PORT="1025",
        MAIL_CATCHER_PORT=str(mail_port),
    )
    base = ["docker", "compose", "-p", project, "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE)]
    base += ["--env-file", str(env_file), "--profile", "mail"]

    def compose(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([*base, *args], capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"compose {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
        return result

    url = f"https://localhost:{https_port}"
    try:
        compose("build", timeout=UP_TIMEOUT)
        compose("up", "-d", "--wait", "--wait-timeout", str(UP_TIMEOUT), timeout=UP_TIMEOUT + 60)
        compose("cp", "nginx:/etc/nginx/certs/fullchain.pem", str(workdir / "ca.pem"))
        _wait_ready(url, workdir / "ca.pem")
        yield Stack(
            url,
            lambda *args: compose("exec", "-T", "web", "flask", *args).stdout,
            CatcherInbox(f"http://127.0.0.1:{mail_port}"),
        )
    finally:
        try:
            if os.environ.get("CI") == "true":
                print(compose("logs", "--no-color", "--tail", "100", check=False).stdout[-10000:])
        finally:
            compose("down", "-v", "--remove-orphans", "--timeout", "20", check=False, timeout=180)
            shutil.rmtree(workdir, ignore_errors=True)
