"""gunicorn settings, read from the environment so one image fits every host.

Run from web/: gunicorn -c gunicorn.conf.py "app:create_app()"

Every setting has a default that suits a laptop (`make run`); the compose
stack overrides the few that depend on where it runs (see .env.example).
"""

import json
import multiprocessing
import os
import shutil


def _int(name: str, default: int) -> int:
    """The integer in env var ``name``, ``default`` when unset or empty.

    Raises ValueError naming the variable when it is not a whole number, so a
    typo stops gunicorn at start instead of running with a surprise value.
    """
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a whole number") from None


bind = [os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")]
# The metrics listener (app/metrics/exposition.py): a port of its own, which
# nginx never proxies to; the app answers /metrics on it and only on it.
# The app reads METRICS_PORT too. 0 or unset: no listener.
_metrics_port = _int("METRICS_PORT", 0)
if _metrics_port:
    bind.append(f"{os.environ.get('METRICS_BIND_HOST', '0.0.0.0')}:{_metrics_port}")  # noqa: S104 - a container's interfaces

# Prometheus' multiprocess mode: every worker writes its values to files in
# this directory and a scrape adds them up. Set before the app (and so
# prometheus_client) is loaded, which reads it at import; on tmpfs, as the
# files are rewritten on every request. Emptied when the master starts
# (on_starting), so a restart never adds up a previous run's counts.
_shm = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
if _metrics_port and not os.environ.get("PROMETHEUS_MULTIPROC_DIR") and _shm:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(_shm, f"notes-metrics-{_metrics_port}")
# The usual (2 x cores) + 1: a worker waiting on the database leaves a core busy.
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
# gthread by default: threads overlap database waits, and unlike sync workers
# (one request per connection) they keep nginx's upstream connections alive.
# Measured against sync in docs/stack.md.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
if worker_class not in ("sync", "gthread"):
    raise ValueError(f"GUNICORN_WORKER_CLASS={worker_class!r}: use 'sync' or 'gthread'")
threads = _int("GUNICORN_THREADS", 4 if worker_class == "gthread" else 1)

# A request slower than this is stuck: the worker is killed and replaced.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM (docker stop) workers get this long to finish in-flight requests;
# compose's stop_grace_period must be longer so Docker never SIGKILLs first.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
# nginx keeps upstream connections open; keep ours open a little longer than
# its idle timeout would close them, never the other way round.
keepalive = _int("GUNICORN_KEEPALIVE", 75)
# Build the app once, in the master, and fork the workers from it. Each
# worker building its own paid the imports and create_app again at every
# max_requests recycle, a real share of the CPU per request under load
# (docs/performance.md, "What was tuned"). The app opens no
# database connection while it is built, and forked workers start with empty
# pools (app/db/pool.py). New code therefore needs a restart (as a deploy does),
# not a HUP.
preload_app = True
# Recycle workers now and then so a slow leak never grows without bound;
# the jitter keeps them from all restarting at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
# The heartbeat file on tmpfs: a disk-backed /tmp can stall workers under I/O.
worker_tmp_dir = _shm

# Logs go to stdout/stderr, where Docker collects (and rotates) them. The
# request id is the X-Request-ID the app echoes, the same id nginx logs.
# LOG_FORMAT=json (production's default, as the app's): one JSON object per
# line, in the app's format (app/http/logs.py), the access line with the
# request id, user id and duration.
log_format = (os.environ.get("LOG_FORMAT") or ("json" if os.environ.get("APP_ENV") == "prod" else "text")).lower()
if log_format not in ("json", "text"):
    raise ValueError(f"LOG_FORMAT={log_format!r}: use 'json' or 'text'")
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'


def _redacting_logger():  # type: ignore[no-untyped-def]
    """gunicorn's logger, with secrets in URLs (invitation and reset links) redacted
    from the access line as the app redacts them (app/http/requestlog.py)."""
    from gunicorn.glogging import Logger

    class RedactingLogger(Logger):  # type: ignore[misc]
        def setup(self, cfg):  # type: ignore[no-untyped-def]
            super().setup(cfg)
            if log_format == "json":
                from app.http.logs import JsonFormatter

                for log in (self.error_log, self.access_log):
                    for handler in log.handlers:
                        handler.setFormatter(JsonFormatter())

        def access(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
            if log_format != "json":
                return super().access(resp, req, environ, request_time)
            if not self.access_log_enabled:
                return None
            atoms = self.atoms(resp, req, environ, request_time)
            path = atoms["U"] + (f"?{atoms['q']}" if atoms.get("q") else "")
            status = str(atoms["s"])
            size = atoms.get("B")
            fields = {
                "request_id": environ.get("notes.request_id") or atoms.get("{x-request-id}o") or None,
                "user_id": environ.get("notes.user_id"),
                "method": atoms["m"],
                "path": path,
                "status": int(status) if status.isdigit() else status,
                "bytes": size if isinstance(size, int) else None,
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "remote_addr": atoms["h"],
            }
            self.access_log.info('"%s %s" %s', atoms["m"], path, status, extra=fields)
            return None

        def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
            # Imported here: when gunicorn reads this file the app is not importable yet.
            from app.http.requestlog import redact_secrets

            atoms = super().atoms(resp, req, environ, request_time)
            for key in ("r", "U", "q"):
                if isinstance(atoms.get(key), str):
                    atoms[key] = redact_secrets(atoms[key])
            return atoms

    return RedactingLogger


logger_class = _redacting_logger()

# Trust X-Forwarded-* only from the proxy in front (nginx's network), never "*".
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# gunicorn 25+ opens a control socket for `gunicornc`, by default under
# $HOME/.gunicorn. The image gives its non-root user a writable home; set
# GUNICORN_CONTROL_SOCKET=off to run without one (e.g. a read-only home).
_control = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip()
if _control.lower() in ("off", "0", "false", "no"):
    control_socket_disable = True
elif _control:
    control_socket = _control


def _write_problem(sock, status_int, reason, mesg):  # type: ignore[no-untyped-def]
    """gunicorn's own error answer, as RFC 9457 problem+json instead of an HTML page."""
    from gunicorn import util

    body = json.dumps({"type": "about:blank", "title": reason, "status": status_int, "detail": mesg}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin1") + body)


def on_starting(server):  # type: ignore[no-untyped-def]
    """Empty PROMETHEUS_MULTIPROC_DIR: a previous run's files would be added to this one's.

    Once per master start (a HUP reload does not come here), before any worker
    is forked; the preloaded app makes no series (app/metrics/series.py).
    """
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, mode=0o700, exist_ok=True)


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """A worker is gone (recycled by max_requests, killed on timeout): its gauges stop counting.

    Its counters and histograms stay in the sum, as a counter must never go down.
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    """Answer the requests gunicorn refuses itself (a request line or headers over
    its limits, a malformed request) in problem+json, as the app answers every
    API error. They fail before any routing, so the path is not known; API
    clients meet them far more often than browsers do."""
    from gunicorn import util

    util.write_error = _write_problem
