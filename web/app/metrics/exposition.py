"""``/metrics``, answered on the metrics listener only.

gunicorn listens on two ports: the app's (8000, where nginx sends every
public request) and METRICS_PORT (9100 in the compose stack, which nginx
never proxies to and no compose service publishes). This middleware looks at
the port the connection actually arrived on, read from the socket, not from
any header a client or proxy could write:

- on METRICS_PORT it answers ``GET /metrics`` and 404s everything else,
  before the app (its host checks, sessions, load shedding) is involved;
- on any other port it passes the request to the app, which has no
  ``/metrics`` route: the public path answers 404 whatever the headers say.

With METRICS_PORT unset (0), nothing is served and the app is not wrapped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from . import series

PATH = "/metrics"


def local_port(environ: dict[str, Any]) -> int | None:
    """The server port this connection was made to, from the socket itself (gunicorn or Werkzeug's)."""
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    try:
        return int(sock.getsockname()[1])  # type: ignore[union-attr]
    except (AttributeError, OSError, IndexError, TypeError, ValueError):
        return None  # no socket (a test client), or a Unix socket: never the metrics listener


def render() -> bytes:
    """Every series in Prometheus' text format, summed over gunicorn's workers in multiprocess mode."""
    found = series.get()  # this worker's series exist (and read 0) even before it counted anything
    if series.multiprocess():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(found.registry)


class MetricsListener:
    """Serve ``/metrics`` to connections made to ``port``; hand every other connection to ``app``."""

    def __init__(self, app: Any, port: int) -> None:
        self.app = app
        self.port = port

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if local_port(environ) != self.port:
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        if environ.get("PATH_INFO") != PATH:
            return _answer(start_response, "404 Not Found", b"Only /metrics here.\n", "text/plain; charset=utf-8")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _answer(start_response, "405 Method Not Allowed", b"GET only.\n", "text/plain; charset=utf-8")
        body = render()
        return _answer(
            start_response, "200 OK", b"" if environ["REQUEST_METHOD"] == "HEAD" else body, CONTENT_TYPE_LATEST
        )


def _answer(start_response: Any, status: str, body: bytes, content_type: str) -> list[bytes]:
    start_response(
        status,
        [("Content-Type", content_type), ("Content-Length", str(len(body))), ("Cache-Control", "no-store")],
    )
    return [body]


def init_app(app: Flask) -> None:
    port = int(app.config.get("METRICS_PORT") or 0)
    if port:
        app.wsgi_app = MetricsListener(app.wsgi_app, port)  # type: ignore[method-assign]
