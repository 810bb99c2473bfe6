"""Prometheus metrics: the series, how they are counted, and the one place they are served.

- ``series.py``: what is measured (requests by endpoint and status, latency,
  the database pool, login failures, throttled requests), made on first use
  in each process.
- ``instrument.py``: the hooks that count requests and pool use.
- ``exposition.py``: the metrics listener. ``/metrics`` is answered only on
  a connection to METRICS_PORT, a port of its own that nginx never proxies
  to; the public port has no such route (docs/stack.md, "Metrics").

Under gunicorn every worker writes its values to files in
PROMETHEUS_MULTIPROC_DIR (web/gunicorn.conf.py sets it up) and a scrape, in
whichever worker it lands, adds them all up. Without that variable (a
laptop, the tests) the values live in this process.

Domains count their events with the functions below; they import nothing
else from here, and ``app.metrics`` imports no domain (a contract in
``make lint``).
"""

from __future__ import annotations

from flask import Flask

from . import exposition, instrument, series


def count_login_failure() -> None:
    """A wrong password or second-factor code (app/accounts/throttle.py)."""
    series.get().login_failures.inc()


def count_throttled(limiter: str) -> None:
    """A request refused by ``limiter``: "login", "password_reset" or "api"."""
    series.get().throttled.labels(limiter=limiter).inc()


def init_app(app: Flask) -> None:
    """Count every request and the database pool's use; serve /metrics on METRICS_PORT when it is set."""
    instrument.init_app(app)
    with app.app_context():
        engines = list(app.extensions["sqlalchemy"].engines.values())
    instrument.watch_pools(engines)
    exposition.init_app(app)
