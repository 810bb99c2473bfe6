"""The series Notes exports, made once per process on first use.

Not at import: in multiprocess mode a series without labels opens its value
file as soon as it is made, named after the process that made it. Made
lazily, they belong to the worker that counts, never to gunicorn's master
(which builds the app and forks the workers from it).

Labels are few and bounded: a Flask endpoint name (never a raw path, which a
client could vary without end), a status code, a limiter's name.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Seconds. Most pages answer in a few milliseconds; an import may take seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def multiprocess() -> bool:
    """True when values go to files shared by gunicorn's workers (PROMETHEUS_MULTIPROC_DIR is set)."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


@dataclass(frozen=True)
class Series:
    # In multiprocess mode the series belong to no registry (a scrape reads
    # the files); otherwise to this one, which exposition.py serves.
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    pool_checked_out: Gauge
    pool_size: Gauge
    login_failures: Counter
    throttled: Counter


def _make() -> Series:
    registry = CollectorRegistry(auto_describe=True)
    into = None if multiprocess() else registry
    return Series(
        registry=registry,
        requests=Counter(
            "notes_http_requests",
            "HTTP requests answered, by Flask endpoint, method and status.",
            ["endpoint", "method", "status"],
            registry=into,
        ),
        latency=Histogram(
            "notes_http_request_duration_seconds",
            "Time from the request reaching the app to its answer, by Flask endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=into,
        ),
        pool_checked_out=Gauge(
            "notes_db_pool_checked_out",
            "Database connections in use, summed over the live workers.",
            registry=into,
            multiprocess_mode="livesum",
        ),
        pool_size=Gauge(
            "notes_db_pool_size",
            "Database connections the pools keep open at most (overflow aside), summed over the live workers.",
            registry=into,
            multiprocess_mode="livesum",
        ),
        login_failures=Counter(
            "notes_login_failures",
            "Wrong passwords and second-factor codes.",
            registry=into,
        ),
        throttled=Counter(
            "notes_throttled_requests",
            "Requests refused by a limiter: login (password guessing), password_reset, api (rate limits).",
            ["limiter"],
            registry=into,
        ),
    )


_series: Series | None = None
_pid: int | None = None
_lock = threading.Lock()


def get() -> Series:
    """This process's series, made on the first call (again in a forked child)."""
    global _series, _pid
    if _series is None or _pid != os.getpid():
        with _lock:
            if _series is None or _pid != os.getpid():
                _series, _pid = _make(), os.getpid()
    return _series
