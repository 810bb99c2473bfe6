"""Serving under a URL prefix: the mount (app/http/prefix.py), the proxy's X-Forwarded-Prefix,
safe redirect targets and load shedding under it."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from app.http.overload import QueueDeadline
from app.http.prefix import PrefixMount, configure
from app.http.proxies import TrustedProxyFix
from app.http.security import is_safe_next

PREFIX = "/apps/notes"
PROXY = "172.16.238.3"


def where(environ: dict[str, Any], start_response: Any) -> Any:
    """The app behind the middleware: answers with where it was mounted and what it was asked."""
    return Response(f"{environ['SCRIPT_NAME']}|{environ['PATH_INFO']}")(environ, start_response)


def mounted() -> Client:
    return Client(PrefixMount(where, PREFIX))


@pytest.mark.parametrize(
    ("path", "script", "rest"),
    [
        ("/apps/notes/", "/apps/notes", "/"),
        ("/apps/notes/auth/login", "/apps/notes", "/auth/login"),
        ("/apps/notes/notes/7/edit", "/apps/notes", "/notes/7/edit"),
        ("/apps/notes/healthz", "/apps/notes", "/healthz"),
    ],
)
def test_a_path_under_the_prefix_reaches_the_app_mounted_there(path, script, rest):
    response = mounted().get(path)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == f"{script}|{rest}"


@pytest.mark.parametrize("path", ["/healthz", "/notes/", "/apps/notesx/", "/apps", "/apps/", "/static/css/app.css"])
def test_a_path_outside_the_prefix_is_a_404_that_says_where_notes_is(path):
    response = mounted().get(path)
    assert response.status_code == 404
    assert "Notes is served under /apps/notes/" in response.get_data(as_text=True)


def test_the_root_redirects_into_the_prefix():
    response = mounted().get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/apps/notes/"


def test_the_prefix_without_its_slash_is_the_same_page_for_every_method():
    response = mounted().post("/apps/notes?x=1")
    assert response.status_code == 308  # keeps the method and the body
    assert response.headers["Location"] == "/apps/notes/?x=1"


def test_a_server_or_proxy_that_mounted_the_app_at_the_prefix_is_believed():
    # gunicorn with SCRIPT_NAME=/apps/notes, or ProxyFix after X-Forwarded-Prefix.
    response = mounted().get("/auth/login", environ_overrides={"SCRIPT_NAME": PREFIX})
    assert response.get_data(as_text=True) == "/apps/notes|/auth/login"


def test_a_mount_point_other_than_the_prefix_is_not_served():
    response = mounted().get("/auth/login", environ_overrides={"SCRIPT_NAME": "/elsewhere"})
    assert response.status_code == 404


def proxied(*, prefix: bool) -> Client:
    inner: Any = PrefixMount(where, PREFIX) if prefix else where
    return Client(TrustedProxyFix(inner, 1, ["172.16.238.0/24"], prefix=prefix))


def test_a_trusted_proxy_that_stripped_the_prefix_says_so_with_x_forwarded_prefix():
    response = proxied(prefix=True).get(
        "/auth/login", headers={"X-Forwarded-Prefix": PREFIX}, environ_base={"REMOTE_ADDR": PROXY}
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "/apps/notes|/auth/login"


def test_x_forwarded_prefix_from_anyone_else_is_ignored():
    response = proxied(prefix=True).get(
        "/auth/login", headers={"X-Forwarded-Prefix": PREFIX}, environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )
    assert response.status_code == 404  # /auth/login is outside the prefix


def test_x_forwarded_prefix_naming_another_path_is_not_served():
    response = proxied(prefix=True).get(
        "/auth/login", headers={"X-Forwarded-Prefix": "//evil.example"}, environ_base={"REMOTE_ADDR": PROXY}
    )
    assert response.status_code == 404


def test_without_a_url_prefix_x_forwarded_prefix_moves_nothing():
    response = proxied(prefix=False).get(
        "/auth/login", headers={"X-Forwarded-Prefix": "/elsewhere"}, environ_base={"REMOTE_ADDR": PROXY}
    )
    assert response.get_data(as_text=True) == "|/auth/login"


def test_configure_leaves_other_cookie_names_alone():
    config: dict[str, Any] = {"SESSION_COOKIE_NAME": "session", "REMEMBER_COOKIE_NAME": "__Host-remember"}
    configure(config, "/n")
    assert config["SESSION_COOKIE_NAME"] == "session"
    assert config["REMEMBER_COOKIE_NAME"] == "__Secure-remember"
    assert config["SESSION_COOKIE_PATH"] == config["REMEMBER_COOKIE_PATH"] == "/n/"
    assert config["DEVICE_COOKIE_PATH"] == "/n/auth/"


# --- where a login may send the browser back to -------------------------------


@pytest.mark.parametrize("target", ["/apps/notes/notes/7", "/apps/notes/", "/apps/notes", "/apps/notes/notes/?q=a"])
def test_a_next_under_the_prefix_is_safe(target):
    assert is_safe_next(target, root=PREFIX) is True


@pytest.mark.parametrize(
    "target",
    [
        "/notes/7",  # this app's path without the prefix: another site on this host
        "/apps/notesx",
        "/apps/other/",
        "/apps/notes/../other/",
        "/apps/notes/%2e%2e/other/",
        "/apps/notes/./..",
        "//evil.example/apps/notes/",
        "https://evil.example/apps/notes/",
    ],
)
def test_a_next_outside_the_prefix_is_not(target):
    assert is_safe_next(target, root=PREFIX) is False


def test_at_the_root_any_path_of_the_site_stays_safe():
    assert is_safe_next("/notes/7", root="") is True
    assert is_safe_next("/apps/notes/../x", root="") is True


# --- load shedding ---------------------------------------------------------------


def test_health_probes_under_the_prefix_are_never_shed():
    now = 1_800_000_000.0
    app = Client(QueueDeadline(where, 1.0, ["172.16.238.0/24"], clock=lambda: now, prefix=PREFIX))
    stale = {"X-Request-Start": f"t={now - 5:.3f}"}
    for path in ("/apps/notes/healthz", "/apps/notes/readyz", "/healthz"):
        assert app.get(path, headers=stale, environ_base={"REMOTE_ADDR": PROXY}).status_code == 200, path
    assert app.get("/apps/notes/notes/", headers=stale, environ_base={"REMOTE_ADDR": PROXY}).status_code == 503
