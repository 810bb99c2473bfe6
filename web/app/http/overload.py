"""Shed load: refuse a request that waited too long in the queue before the app saw it.

When more requests arrive than the workers can serve, they queue (in
gunicorn's workers, behind busy threads) and every one of them gets slower
until clients time out: everybody waits and nobody is served. nginx stamps
each request with the time it passed it on (``X-Request-Start: t=<epoch
seconds>``, nginx's ``$msec``); a request that waited longer than
REQUEST_QUEUE_TIMEOUT is answered 503 with Retry-After at once, before any
session, database or view work, so the queue drains at a fraction of a
millisecond a request and the requests that are admitted keep a bounded
latency. This is the "request queue timeout" of Heroku's router and
Rails' rack-timeout, and it needs no figure for the capacity: it follows
however many workers and replicas there are.

The stamp is believed only from the proxies in TRUSTED_PROXIES (a client
could otherwise post-date it to dodge shedding, or pre-date it to be shed).
Health probes are never shed: an orchestrator that sees them fail would
take a busy replica away and make the overload worse.

Requires the proxy's and the app's clocks to agree (the same host, or NTP).
A stamp more than CLOCK_SKEW_LIMIT in the past or at all in the future is
treated as a clock problem, not a queue, and ignored.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

from .problem import PROBLEM_JSON
from .proxies import is_trusted_peer, networks

HEADER = "HTTP_X_REQUEST_START"
CLOCK_SKEW_LIMIT = 300.0  # seconds; no request queues this long (gunicorn kills a worker after 30 s)
NEVER_SHED = ("/healthz", "/readyz")


def queued_for(environ: dict[str, Any], now: float) -> float | None:
    """Seconds the request waited since the proxy stamped it; None without a usable stamp."""
    raw = environ.get(HEADER, "")
    value = raw[2:] if raw.startswith("t=") else raw
    try:
        stamped = float(value)
    except ValueError:
        return None
    waited = now - stamped
    if not math.isfinite(waited) or waited < 0 or waited > CLOCK_SKEW_LIMIT:
        return None
    return waited


class QueueDeadline:
    """WSGI middleware: 503 for a request that queued more than ``limit`` seconds.

    ``clock`` is the wall clock (the proxy's stamp is wall time); tests pass their own.
    """

    def __init__(
        self,
        app: Any,
        limit: float,
        trusted: Iterable[str],
        clock: Callable[[], float] = time.time,
        prefix: str = "",
    ) -> None:
        """``prefix``: the URL_PREFIX, under which the health probes are never shed either."""
        self.app = app
        self.limit = limit
        self.trusted = networks(trusted)
        self.clock = clock
        self.never_shed = frozenset(NEVER_SHED) | {prefix + path for path in NEVER_SHED}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if (
            HEADER in environ
            and environ.get("PATH_INFO") not in self.never_shed
            and is_trusted_peer(environ.get("REMOTE_ADDR"), self.trusted)
        ):
            waited = queued_for(environ, self.clock())
            if waited is not None and waited > self.limit:
                return self._shed(waited, start_response)
        return self.app(environ, start_response)

    def _shed(self, waited: float, start_response: Any) -> list[bytes]:
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": (
                    f"Notes is overloaded: this request waited {waited * 1000:.0f} ms for a free worker "
                    f"(the limit is {self.limit * 1000:.0f} ms) and was not run. Try again in a few seconds."
                ),
            }
        ).encode()
        start_response(
            "503 SERVICE UNAVAILABLE",
            [
                ("Content-Type", PROBLEM_JSON),
                ("Content-Length", str(len(body))),
                # Spread the retries; clients that all came back at once would queue again.
                ("Retry-After", "2"),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
            ],
        )
        return [body]


def init_app(app: Any) -> None:
    """Wrap the app outermost, so a shed request costs no other middleware's work.

    REQUEST_QUEUE_TIMEOUT (seconds) of 0 or None turns shedding off.
    """
    limit = app.config.get("REQUEST_QUEUE_TIMEOUT")
    if limit:
        app.wsgi_app = QueueDeadline(
            app.wsgi_app, float(limit), app.config["TRUSTED_PROXIES"], prefix=app.config.get("URL_PREFIX", "")
        )
