"""Counting requests (by endpoint, method, status, and their latency) and the database pool's use."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, g, request

from . import series

# A request that matched no route (a 404, a 405 on no rule): one label for all
# of them, so scanners trying paths cannot make new series.
UNMATCHED = "none"


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _count(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    endpoint = request.endpoint or UNMATCHED
    found = series.get()
    found.requests.labels(endpoint=endpoint, method=request.method, status=str(response.status_code)).inc()
    if started is not None:
        found.latency.labels(endpoint=endpoint).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    # First in, so the time includes the other hooks; after_request hooks run
    # in reverse, so this one, added first, runs last (after error pages).
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request_funcs.setdefault(None, []).insert(0, _count)


def _checked_out(*_: Any) -> None:
    found = series.get()
    found.pool_checked_out.inc()


def _checked_in(*_: Any) -> None:
    series.get().pool_checked_out.dec()


def _sized(engine: sa.Engine) -> Any:
    def on_connect(*_: Any) -> None:
        size = getattr(engine.pool, "size", None)
        if callable(size):
            series.get().pool_size.set(size())

    return on_connect


def watch_pools(engines: list[sa.Engine]) -> None:
    """Keep the pool gauges up to date: a checkout adds one, a checkin takes it back."""
    for engine in engines:
        if sa.event.contains(engine, "checkout", _checked_out):
            continue
        sa.event.listen(engine, "checkout", _checked_out)
        sa.event.listen(engine, "checkin", _checked_in)
        sa.event.listen(engine, "connect", _sized(engine))
