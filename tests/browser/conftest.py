"""Tier 5: real headless Chromium (Debian's) driven by Playwright.

Three ways to point it at the app:
- default: gunicorn serving a fresh SQLite database, as `make run` serves it;
- BROWSER_STACK=1: a throwaway docker compose stack, through nginx over HTTPS
  (tests/helpers/browser_stack.py; `make test-browser` runs the journeys this way too);
- BROWSER_BASE_URL=https://host:port: a stack that is already running.
Over HTTPS the stack's certificate is self-signed, so contexts ignore
certificate errors (tier 4 checks TLS itself).

The app lets anyone register (REGISTRATION=open), as the journeys sign up
through the form. Journeys of administrators make one as an operator does,
`flask users create --admin` next to the app (``new_admin``); the invitation
journey needs a second app, by invitation only (``invite_server``): a second
gunicorn in the default mode, a second throwaway stack with BROWSER_STACK=1
(started only when that journey runs), none against BROWSER_BASE_URL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.helpers.browser import PASSWORD
from tests.helpers.browser_stack import compose_stack
from tests.helpers.docker_env import docker_problem, free_port
from tests.helpers.mail import CatcherInbox, SmtpCatcher
from tests.helpers.oidc import Provider, running_provider

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling home, and on
# a closed network each attempt is refused.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tier cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"browser tier skipped: {reason}")


@dataclass(frozen=True)
class Served:
    """An app under test: its base URL; how to run `flask <args>` next to it
    (on its database) returning the output; and what it mailed (an SMTP server
    in this process, or the stack's `mail` catcher). None when this mode cannot."""

    url: str
    flask: Callable[..., str] | None
    mail: SmtpCatcher | CatcherInbox | None = None


def _local_mode() -> bool:
    return not os.environ.get("BROWSER_BASE_URL") and os.environ.get("BROWSER_STACK") != "1"


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[Provider | None]:
    """The identity provider the local gunicorn logs in with (oidc-provider-mock on
    127.0.0.1), or None against a stack, whose web container cannot reach the host's loopback."""
    if not _local_mode():
        yield None
        return
    with running_provider() as provider:
        yield provider


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory, oidc_provider: Provider | None) -> Iterator[Served]:
    """The app under test (see the module docstring)."""
    if os.environ.get("BROWSER_BASE_URL"):
        yield Served(os.environ["BROWSER_BASE_URL"].rstrip("/"), None)
    elif os.environ.get("BROWSER_STACK") == "1":
        yield from _stack(registration="open")
    else:
        yield from _gunicorn(tmp_path_factory, registration="open", provider=oidc_provider)


def _stack(*, registration: str) -> Iterator[Served]:
    """A throwaway compose stack (tests/helpers/browser_stack.py) with this REGISTRATION."""
    problem = docker_problem()
    if problem:
        _unavailable(f"Docker with Compose v2 is needed for BROWSER_STACK=1 ({problem})")
    with compose_stack(registration=registration) as stack:
        _network_settled()
        yield Served(stack.url, stack.flask, stack.mail)


def _network_settled(quiet: float = 3.0, limit: float = 30.0) -> None:
    """Wait until no network interface of this host has come or gone for ``quiet`` seconds.

    Docker adds a veth interface for every container it starts, and Chromium
    aborts whatever navigation is in flight when the host's interfaces change
    (net::ERR_NETWORK_CHANGED): a journey started right after a stack came up
    could fail for that alone. Bounded: after ``limit`` seconds it goes on.
    """
    net = Path("/sys/class/net")
    if not net.is_dir():
        return
    deadline = time.monotonic() + limit
    seen, since = sorted(os.listdir(net)), time.monotonic()
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        time.sleep(0.5)
        now = sorted(os.listdir(net))
        if now != seen:
            seen, since = now, time.monotonic()


@pytest.fixture(scope="session")
def live_server(served: Served) -> str:
    """The base URL of the app under test."""
    return served.url


@pytest.fixture(scope="session")
def invite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A second app, REGISTRATION=invite, on a database of its own: a second gunicorn,
    or with BROWSER_STACK=1 a second stack (a REGISTRATION is the whole server's)."""
    if os.environ.get("BROWSER_BASE_URL"):
        pytest.skip(
            "BROWSER_BASE_URL names one running app: the invitation journey needs a second, "
            "REGISTRATION=invite, beside the open one the other journeys sign up on"
        )
    if os.environ.get("BROWSER_STACK") == "1":
        yield from _stack(registration="invite")
    else:
        yield from _gunicorn(tmp_path_factory, registration="invite")


@pytest.fixture
def new_admin(served: Served) -> Callable[..., str]:
    """Make an administrator with `flask users create --admin`, as an operator does
    (on ``served`` or the Served given); return its email. Its password is PASSWORD."""

    def make(server: Served = served) -> str:
        if server.flask is None:
            pytest.skip("BROWSER_BASE_URL names a running app: these tests cannot create its administrator")
        email = f"admin-{uuid.uuid4().hex[:10]}@example.com"
        server.flask("users", "create", email, "--password", PASSWORD, "--admin")
        return email

    return make


@pytest.fixture(scope="session")
def mail_inbox(served: Served) -> SmtpCatcher | CatcherInbox | None:
    """What the app under test mailed (reset links): in the local mode an SMTP
    server in this process; with BROWSER_STACK=1 the stack's `mail` catcher
    (the web container cannot reach this process), read over its HTTP API.

    None against BROWSER_BASE_URL, whose mail goes wherever that stack sends
    it: the tests that read mail skip there.
    """
    return served.mail


@pytest.fixture(scope="session")
def prefix_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """gunicorn alone (no nginx) with URL_PREFIX=/apps/notes, as `URL_PREFIX=/apps/notes make run` serves it;
    its ``url`` ends with the prefix. The local mode only: a stack's prefix is tier 4's (tests/stack/prefix/)."""
    if not _local_mode():
        pytest.skip("the journey under a URL prefix runs against a gunicorn of its own (the default mode)")
    yield from _gunicorn(tmp_path_factory, registration="open", prefix="/apps/notes")


def _gunicorn(
    tmp_path_factory: pytest.TempPathFactory,
    *,
    registration: str,
    provider: Provider | None = None,
    prefix: str = "",
) -> Iterator[Served]:
    """gunicorn serving a fresh SQLite database on a free loopback port, mailing to an SMTP server in this process.

    ``prefix``: its URL_PREFIX; the Served ``url`` ends with it."""
    data = tmp_path_factory.mktemp("browser-db")
    port = free_port()
    catcher = SmtpCatcher().start()
    env = {
        **os.environ,
        "APP_ENV": "dev",
        "DATABASE_URL": f"sqlite:///{data / 'notes.db'}",
        "FLASK_APP": "app:create_app",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "REGISTRATION": registration,
        "WEB_CONCURRENCY": "2",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(catcher.port),
        "URL_PREFIX": prefix,
    }
    if provider is not None:
        # Single sign-on next to the password form; a first SSO login makes an account.
        env.update({**provider.app_config(), "OIDC_AUTO_CREATE": "on"})
    bin_dir = Path(sys.executable).parent

    def flask(*args: str) -> str:
        result = subprocess.run([bin_dir / "flask", *args], cwd=WEB, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
        return result.stdout

    flask("db", "upgrade")
    log = open(data / "gunicorn.log", "w")  # noqa: SIM115 - closed in finally
    server = subprocess.Popen(
        [bin_dir / "gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"], cwd=WEB, env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}{prefix}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=1):  # noqa: S310 - our own loopback server
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start; see {data / 'gunicorn.log'}")
                time.sleep(0.2)
        yield Served(url, flask, catcher)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
        catcher.stop()


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM}; install it with 'apt-get install chromium'")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed; run 'make venv'")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _watch(page):  # type: ignore[no-untyped-def]
    """Record what a page must never do: open a dialog unasked, break the CSP,
    or throw. Tests that expect a confirm() set page.on_dialog themselves."""
    page.dialogs = []
    page.csp_violations = []
    page.errors = []
    page.on_dialog = None

    def dialog(d):  # type: ignore[no-untyped-def]
        page.dialogs.append(d.message)
        if page.on_dialog is None:
            d.dismiss()
        else:
            page.on_dialog(d)

    page.on("dialog", dialog)
    page.on(
        "console",
        lambda m: page.csp_violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


@pytest.fixture
def new_context(browser, live_server):  # type: ignore[no-untyped-def]
    """Make browser contexts for the app; every page in them is watched (see _watch)
    and checked at the end for CSP violations and script errors."""
    contexts = []

    def make(**options):  # type: ignore[no-untyped-def]
        options.setdefault("base_url", live_server)
        options.setdefault("ignore_https_errors", live_server.startswith("https:"))
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        opened = context.new_page
        context.new_page = lambda: _watch(opened())
        contexts.append(context)
        return context

    yield make
    problems = []
    for context in contexts:
        for p in context.pages:
            problems += [f"CSP: {m}" for m in p.csp_violations] + [f"script error: {e}" for e in p.errors]
        context.close()
    assert not problems, problems


@pytest.fixture
def page(new_context):  # type: ignore[no-untyped-def]
    return new_context().new_page()
