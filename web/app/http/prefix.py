"""Serving Notes under a path, like https://example.com/notes/ (URL_PREFIX=/notes).

Flask builds every URL from the request's SCRIPT_NAME (``url_for``: links,
redirects, htmx attributes, static files, share links), so the app needs
only to be told where it is mounted:

- ``PrefixMount`` mounts the app at the prefix: a request for
  ``/notes/auth/login`` reaches the app as SCRIPT_NAME ``/notes`` and
  PATH_INFO ``/auth/login``. So gunicorn alone (``make run``) serves it
  there too, and nginx passes each request on as the client sent it. A proxy
  that strips the prefix itself says so with X-Forwarded-Prefix, which
  app/http/proxies.py believes from TRUSTED_PROXIES only; a server that sets
  SCRIPT_NAME (gunicorn's SCRIPT_NAME variable) does the same. Either must
  name this prefix: nothing else is served. ``/`` and the prefix without
  its slash redirect to ``<prefix>/``; any other path outside it is a 404.
- ``configure`` fits the configuration to the prefix: the cookies' paths
  (a browser sends them to Notes' pages only), and their names, since the
  ``__Host-`` prefix requires ``Path=/`` (docs/security.md).

The OpenAPI document's ``servers`` entry and the API docs page's script come
from the request (app/api/__init__.py). With URL_PREFIX empty none of this
runs and X-Forwarded-Prefix is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

HOST_COOKIE = "__Host-"
SECURE_COOKIE = "__Secure-"


def configure(config: MutableMapping[str, Any], prefix: str) -> None:
    """Scope the cookies to ``prefix`` (a checked URL_PREFIX, not empty) in ``config``.

    A ``__Host-`` cookie must have ``Path=/`` (RFC 6265bis), so a browser
    would drop one scoped to the prefix: such names become ``__Secure-``,
    which still requires HTTPS and the Secure flag.
    """
    config["SESSION_COOKIE_PATH"] = prefix + "/"
    config["REMEMBER_COOKIE_PATH"] = prefix + "/"
    config["DEVICE_COOKIE_PATH"] = prefix + "/auth/"
    for name in ("SESSION_COOKIE_NAME", "REMEMBER_COOKIE_NAME", "DEVICE_COOKIE_NAME"):
        value = config.get(name)
        if isinstance(value, str) and value.startswith(HOST_COOKIE):
            config[name] = SECURE_COOKIE + value[len(HOST_COOKIE) :]


class PrefixMount:
    """WSGI middleware: ``app`` at ``prefix``; a redirect into it from ``/``, a 404 anywhere else."""

    def __init__(self, app: Any, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        script = environ.get("SCRIPT_NAME", "")
        path = environ.get("PATH_INFO", "")
        if script.rstrip("/") == self.prefix:
            # Mounted here already: by a proxy that stripped the prefix
            # (X-Forwarded-Prefix) or by the server (SCRIPT_NAME).
            environ["SCRIPT_NAME"] = self.prefix
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        if not script and path.startswith(self.prefix + "/"):
            environ["SCRIPT_NAME"] = self.prefix
            environ["PATH_INFO"] = path[len(self.prefix) :]
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        if not script and path in ("", "/", self.prefix):
            query = environ.get("QUERY_STRING", "")
            location = self.prefix + "/" + ("?" + query if query and path == self.prefix else "")
            # The prefix without its slash: the same page (308 keeps a POST a POST).
            status = "308 Permanent Redirect" if path == self.prefix else "302 Found"
            return _answer(start_response, status, f"Notes is at {location}\n", [("Location", location)])
        return _answer(start_response, "404 Not Found", f"Not found: Notes is served under {self.prefix}/ here.\n", [])


def _answer(start_response: Any, status: str, text: str, headers: list[tuple[str, str]]) -> list[bytes]:
    body = text.encode()
    start_response(
        status,
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("X-Content-Type-Options", "nosniff"),
            *headers,
        ],
    )
    return [body]
