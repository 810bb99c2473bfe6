"""`make bench-ratelimit`: what one API rate-limit check costs in PostgreSQL 17 and in Redis.

    .venv/bin/python bench/ratelimit_store.py      # ~1 minute of containers
    RL_CALLS=3000 RL_SECONDS=3 RL_THREADS=4          (the defaults)

Starts a ``postgres:17`` container and a Redis built from
bench/redis/Dockerfile (Debian's redis-server), each capped at one CPU, and
measures one check (a call counted against a token's and a user's quota):

- PostgreSQL through the app's own code: ``app.limits.windows.count_call``
  in an app built by ``create_app`` with ProdConfig (its engine options,
  pool and connection checks), on the schema of the real migrations. Both
  ways the app runs it: a read, on the request's session connection in
  autocommit; a write, on a pooled connection of its own. First on the
  UNLOGGED table the migration makes, then on a logged one (a WAL flush to
  disk at each commit), to show what UNLOGGED saves.
- Redis with redis-py: one MULTI/EXEC pipeline of INCR + EXPIRE NX per key
  on keys named by the window (the usual fixed window in Redis), one round trip.

For each: latency of sequential checks (p50, p99), checks per second from
RL_THREADS threads of one process (one gunicorn gthread worker), and CPU per
check in the client (this process) and in the server's container (its
cgroup's CPU usage). Keys rotate over 1,000 callers; no limit is reached.
Prints a table and writes bench/runs/<date>-<commit>-ratelimit.json.
Containers are removed however it ends.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flask_migrate
import redis
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "web"))

from app import create_app  # noqa: E402
from app.config import ProdConfig  # noqa: E402
from app.limits.windows import Quota, count_call  # noqa: E402
from app.models import db  # noqa: E402

CALLS = int(os.environ.get("RL_CALLS", "3000"))
SECONDS = float(os.environ.get("RL_SECONDS", "3"))
THREADS = int(os.environ.get("RL_THREADS", "4"))
WINDOW = 60
CALLERS = 1000
POSTGRES_IMAGE = "postgres:17"
REDIS_IMAGE = "notes-bench-redis:latest"

Check = Callable[[int], None]


def log(message: str) -> None:
    print(f"[bench-ratelimit {time.strftime('%H:%M:%S')}] {message}", flush=True)


def docker(*args: str, timeout: float = 300) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])}... failed: {result.stderr.strip()[-2000:]}")
    return result.stdout.strip()


@contextmanager
def container(image: str, *args: str, port: int) -> Iterator[tuple[str, str, int]]:
    """A container of ``image`` on one CPU; yields (id, host, port) to reach it, and removes it after."""
    name = f"notes-bench-rl-{uuid.uuid4().hex[:8]}"
    cid = docker("run", "-d", "--rm", "--name", name, "--cpus", "1", "-p", f"127.0.0.1::{port}", *args, image)
    try:
        # The container's own address skips Docker's userland proxy, which
        # would add its own hop and CPU to every check; the published port is
        # the fallback where the bridge cannot be reached from here.
        address = docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", cid)
        if address and _reachable(address, port):
            yield cid, address, port
        else:
            published = docker("port", cid, f"{port}/tcp").splitlines()[0].rsplit(":", 1)[1]
            yield cid, "127.0.0.1", int(published)
    finally:
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True, timeout=60, check=False)


def _reachable(host: str, port: int) -> bool:
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def server_cpu_seconds(cid: str) -> float:
    """CPU time the container's processes have used (its cgroup), in seconds."""
    for path in (f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage", f"/sys/fs/cgroup/docker/{cid}/cpu.stat"):
        if os.path.exists(path):
            text = Path(path).read_text()
            if path.endswith("cpuacct.usage"):
                return int(text) / 1e9
            return int(dict(line.split() for line in text.splitlines())["usage_usec"]) / 1e6
    raise RuntimeError(f"no cgroup CPU accounting found for container {cid[:12]}")


def measure(name: str, cid: str, make_check: Callable[[], tuple[Check, Callable[[], None]]]) -> dict[str, Any]:
    """Sequential latency, then threaded throughput, of the checks ``make_check`` builds (one per thread)."""
    check, done = make_check()
    for i in range(200):  # warm: connections, statement caches, the rows
        check(i)
    latencies = []
    cpu, server = time.process_time(), server_cpu_seconds(cid)
    for i in range(CALLS):
        started = time.perf_counter()
        check(i)
        latencies.append(time.perf_counter() - started)
    client_cpu, server_cpu = time.process_time() - cpu, server_cpu_seconds(cid) - server
    done()
    latencies.sort()

    counts = [0] * THREADS
    start = threading.Barrier(THREADS + 1)
    stop = threading.Event()

    def worker(n: int) -> None:
        check, done = make_check()
        check(n)
        start.wait()
        i = n
        while not stop.is_set():
            check(i)
            i += THREADS
            counts[n] += 1
        done()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    start.wait()
    t_cpu, t_server, t0 = time.process_time(), server_cpu_seconds(cid), time.perf_counter()
    time.sleep(SECONDS)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - t0
    total = sum(counts)
    result = {
        "name": name,
        "p50_ms": round(statistics.median(latencies) * 1000, 3),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 3),
        "client_cpu_us_per_check": round(client_cpu / CALLS * 1e6, 1),
        "server_cpu_us_per_check": round(server_cpu / CALLS * 1e6, 1),
        "threads": THREADS,
        "checks_per_second": round(total / elapsed),
        "threaded_client_cpu_us_per_check": round((time.process_time() - t_cpu) / total * 1e6, 1),
        "threaded_server_cpu_us_per_check": round((server_cpu_seconds(cid) - t_server) / total * 1e6, 1),
    }
    log(json.dumps(result))
    return result


def quotas(i: int) -> list[Quota]:
    caller = i % CALLERS
    limit = 10**9  # counted, never refused
    return [Quota("token", f"api:token:{caller}", limit, "this token"), Quota("user", f"api:user:{caller}", limit, "")]


def postgres_checks(app: Any, *, read: bool) -> Callable[[], tuple[Check, Callable[[], None]]]:
    """count_call as a read request runs it (session connection) or as a write does (a connection of its own)."""

    def make() -> tuple[Check, Callable[[], None]]:
        if read:
            context = app.test_request_context("/api/v1/notes", method="GET")
            context.push()
            db.session.connection()  # checked out by the token look-up in a real request
        else:
            context = app.app_context()
            context.push()

        def check(i: int) -> None:
            count_call(quotas(i), window=WINDOW)

        def done() -> None:
            db.session.remove()
            context.pop()

        return check, done

    return make


def redis_checks(host: str, port: int) -> Callable[[], tuple[Check, Callable[[], None]]]:
    pool = redis.ConnectionPool(host=host, port=port)

    def make() -> tuple[Check, Callable[[], None]]:
        client = redis.Redis(connection_pool=pool)

        def check(i: int) -> None:
            start = int(time.time()) // WINDOW * WINDOW
            pipe = client.pipeline(transaction=True)
            for quota in quotas(i):
                key = f"{quota.key}:{start}"
                pipe.incr(key)
                pipe.expire(key, WINDOW, nx=True)
            pipe.execute()

        return check, client.close

    return make


def run() -> dict[str, Any]:
    results = []
    password = secrets.token_urlsafe(16)
    log(f"starting {POSTGRES_IMAGE}")
    with container(POSTGRES_IMAGE, "-e", f"POSTGRES_PASSWORD={password}", "-e", "POSTGRES_USER=notes", port=5432) as (
        cid,
        host,
        port,
    ):
        url = f"postgresql+psycopg://notes:{password}@{host}:{port}/notes"
        _wait_for_postgres(url)
        app = create_app(ProdConfig({"SECRET_KEY": secrets.token_urlsafe(48), "DATABASE_URL": url}))
        with app.app_context():
            flask_migrate.upgrade()
        for unlogged in (True, False):
            # The migration makes the table UNLOGGED; the logged one is what it would cost otherwise.
            with app.app_context(), db.engine.begin() as conn:
                conn.exec_driver_sql(f"ALTER TABLE api_rate_windows SET {'UNLOGGED' if unlogged else 'LOGGED'}")
            suffix = " (UNLOGGED table, as migrated)" if unlogged else " (a logged table)"
            results.append(
                measure(f"PostgreSQL, read (session connection){suffix}", cid, postgres_checks(app, read=True))
            )
            results.append(
                measure(f"PostgreSQL, write (own connection){suffix}", cid, postgres_checks(app, read=False))
            )
        with app.app_context():
            server = db.session.scalar(sa.text("SHOW server_version"))
            db.engine.dispose()
    log(f"starting {REDIS_IMAGE} (docker build bench/redis)")
    docker("build", "-q", "-t", REDIS_IMAGE, str(ROOT / "bench" / "redis"), timeout=600)
    with container(REDIS_IMAGE, port=6379) as (cid, host, port):
        _reachable(host, port)
        version = redis.Redis(host=host, port=port).info()["redis_version"]
        results.append(measure("Redis, MULTI/EXEC of INCR + EXPIRE NX", cid, redis_checks(host, port)))
    return {"postgres": server, "redis": version, "results": results}


def _wait_for_postgres(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    deadline = time.monotonic() + 60
    while True:
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return
        except sa.exc.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
        finally:
            engine.dispose()


def main() -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=False
    ).stdout.strip()
    started = datetime.now(UTC)
    report = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "cpus": os.cpu_count(),
        "calls": CALLS,
        "seconds": SECONDS,
        **run(),
    }
    out = ROOT / "bench" / "runs" / f"{started:%Y-%m-%d}-{commit}-ratelimit.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(f"PostgreSQL {report['postgres']}, Redis {report['redis']}; {report['cpus']} CPUs, each server capped at one")
    print(f"| store | p50 ms | p99 ms | client CPU µs | server CPU µs | checks/s, {THREADS} threads |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in report["results"]:
        print(
            f"| {r['name']} | {r['p50_ms']} | {r['p99_ms']} | {r['client_cpu_us_per_check']} | "
            f"{r['server_cpu_us_per_check']} | {r['checks_per_second']} |"
        )
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
