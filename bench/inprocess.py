"""In-process cost of one API request on PostgreSQL: CPU per request and round trips.

    .venv/bin/python bench/inprocess.py                 # GET /api/v1/notes (a page of 20)
    .venv/bin/python bench/inprocess.py --profile       # and a cProfile of 300 of them
    BENCH_PATH='/api/v1/notes/ID' .venv/bin/python bench/inprocess.py   # another GET (ID: a seeded note)
    BENCH_PATH=/notes/ .venv/bin/python bench/inprocess.py --page --profile   # a page, logged in

Starts a throwaway ``postgres:17`` with Docker (``docker run --rm`` on a free
loopback port, ``log_statement=all``; stopped on exit), builds the app the
way production does (``ProdConfig``: the psycopg driver, the production
engine options and pool checks, one proxy hop), upgrades the schema
with the real migrations, seeds one user with 1,000 notes and 40 tags
(``bench/seed.py``'s generator) and a write token, then sends requests with
Flask's test client, as gunicorn would (``SERVER_SOFTWARE=gunicorn``, so the
app does not write its own access line; a Bearer token, or with ``--page``
the session cookie of a login through the form; X-Forwarded-* headers as
nginx sends them).

Reports:
- CPU per request (``time.process_time``, this process only, i.e. the app and
  its database driver, not the server): best of 3 runs of 300 requests;
- wall time per request (same runs; includes waiting for Postgres);
- Python function calls per request (cProfile over 100 requests): exact and
  repeatable, where CPU time on a shared host varies by 10-20 % run to run;
- round trips to Postgres per request, counted by the server itself: every
  line ``log_statement=all`` writes between two marker statements sent before
  and after 100 requests (BEGIN, ROLLBACK and a pool ping's empty statement are
  statements too), and which kinds they were.

The token's ``last_used_at`` is written at most once a minute (app/accounts/tokens.py),
so warm-up requests take that write out of the figures; the script checks
that it happened. The "before → after" rows in docs/performance.md come
from this script; compare figures from one machine and one sitting.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "web"))
sys.path.insert(0, str(HERE))

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from seed import SEED, seed_user  # noqa: E402

from app import create_app  # noqa: E402
from app.config import ProdConfig  # noqa: E402
from app.accounts.passwords import hash_password  # noqa: E402
from app.models import ApiToken, User, db  # noqa: E402

IMAGE = "postgres:17"
REQUESTS = 300
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
COUNTED = 100
HEADERS_NGINX = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "localhost"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres() -> Iterator[tuple[str, str]]:
    """A throwaway Postgres logging every statement; yields (URL, container id)."""
    port, password = _free_port(), uuid.uuid4().hex
    cid = subprocess.run(
        ["docker", "run", "-d", "--rm", "-p", f"127.0.0.1:{port}:5432", "-e", f"POSTGRES_PASSWORD={password}",
         IMAGE, "-c", "log_statement=all", "-c", "fsync=off"],  # fmt: skip
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    url = f"postgresql+psycopg://postgres:{password}@127.0.0.1:{port}/postgres"
    try:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        deadline = time.monotonic() + 60
        while True:
            try:
                with engine.connect():
                    break
            except sa.exc.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        engine.dispose()
        yield url, cid
    finally:
        subprocess.run(["docker", "stop", "-t", "1", cid], capture_output=True, check=False)


def server_statements(cid: str, mark: str) -> list[str]:
    """The statements the server logged between ``mark``-start and ``mark``-end."""
    for _ in range(50):
        logs = subprocess.run(["docker", "logs", cid], capture_output=True, text=True, check=True).stderr
        lines = logs.splitlines()
        starts = [i for i, line in enumerate(lines) if f"{mark}-start" in line]
        ends = [i for i, line in enumerate(lines) if f"{mark}-end" in line]
        if starts and ends:
            inside = lines[starts[-1] + 1 : ends[-1]]
            return [
                line.split("LOG:  ", 1)[1] for line in inside if "LOG:  statement:" in line or "LOG:  execute" in line
            ]
        time.sleep(0.1)
    raise RuntimeError("marker statements not found in the server log")


def kind(logged: str) -> str:
    """BEGIN, COMMIT, ROLLBACK, pre-ping or what a statement reads."""
    sql = logged.split(": ", 1)[1].strip() if ": " in logged else ""
    word = sql.split(None, 1)[0].upper() if sql else "?"
    if word in ("BEGIN", "COMMIT", "ROLLBACK"):
        return word
    if sql in (";", "") or sql.upper() == "SELECT 1":
        return "pre-ping"  # psycopg's dialect pings with an empty statement
    if "FROM api_tokens" in sql and word == "SELECT":
        return "SELECT token+owner"
    if "FROM notes" in sql and word == "SELECT":
        return "SELECT page"
    return word


def build(url: str) -> Any:
    # The API's per-token limit would answer 429 within the run, as in make bench's overlay.
    unlimited = {name: "1000000000" for name in ("API_RATE_LIMIT_PER_TOKEN", "API_RATE_LIMIT_PER_USER")}
    env = {"SECRET_KEY": "inprocess-bench-" + uuid.uuid4().hex, "DATABASE_URL": url, **unlimited}
    app = create_app(ProdConfig(env))
    with app.app_context():
        flask_migrate.upgrade()
        rng = random.Random(SEED)
        info = seed_user("small@bench.test", "not-a-real-hash", 1_000, rng, datetime(2026, 6, 1, tzinfo=UTC))
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    return app, info


def log_in(app: Any, client: Any, headers: dict[str, str], environ: dict[str, str]) -> None:
    """Give the seeded user a password and log in through the form (CSRF on, as in production)."""
    password = uuid.uuid4().hex
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "small@bench.test"))
        assert user is not None
        user.password_hash = hash_password(password)
        db.session.commit()
    kw = {"headers": headers, "base_url": "https://localhost", "environ_base": environ}
    page = client.get("/auth/login", **kw).get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert token, "the login page has no CSRF token"
    form = {"email": "small@bench.test", "password": password, "csrf_token": token.group(1)}
    # Over https Flask-WTF also checks that the form came from this site.
    kw["headers"] = {**headers, "Referer": "https://localhost/auth/login"}
    response = client.post("/auth/login", data=form, **kw)
    assert response.status_code == 302, response.get_data(as_text=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--profile", action="store_true", help="print a cProfile of 300 requests")
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--page", action="store_true", help="log in through the form and send the session cookie")
    args = parser.parse_args()

    with postgres() as (url, cid):
        app, info = build(url)
        path = os.environ.get("BENCH_PATH", "/api/v1/notes").replace("ID", str(info["note_ids"][0]))
        client = app.test_client()
        environ = {"SERVER_SOFTWARE": "gunicorn/23.0.0", "REMOTE_ADDR": "172.18.0.3"}
        headers = {"Authorization": f"Bearer {info['token']}", **HEADERS_NGINX}
        if args.page:
            headers = dict(HEADERS_NGINX)
            log_in(app, client, headers, environ)

        def request() -> None:
            response = client.get(path, headers=headers, base_url="https://localhost", environ_base=environ)
            assert response.status_code == 200, response.get_data(as_text=True)

        for _ in range(50):  # warm-up: pool, caches, and the token's once-a-minute write
            request()
        if not args.page:
            with app.app_context():
                used = db.session.scalar(sa.select(ApiToken.last_used_at))
            assert used is not None, "the token's last_used_at was not written"

        cpu, wall = [], []
        for _ in range(RUNS):
            c0, w0 = time.process_time(), time.perf_counter()
            for _ in range(args.requests):
                request()
            cpu.append((time.process_time() - c0) / args.requests * 1000)
            wall.append((time.perf_counter() - w0) / args.requests * 1000)

        mark = f"inprocess-{uuid.uuid4().hex[:8]}"
        # Autocommit, so the markers' own BEGIN and ROLLBACK are not counted.
        marker = sa.create_engine(url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
        with marker.connect() as conn:
            conn.exec_driver_sql(f"SELECT '{mark}-start'")
        for _ in range(COUNTED):
            request()
        with marker.connect() as conn:
            conn.exec_driver_sql(f"SELECT '{mark}-end'")
        marker.dispose()
        logged = server_statements(cid, mark)
        kinds = Counter(kind(line) for line in logged)

        # Python function calls per request: deterministic, unlike CPU time
        # on a shared host, so it shows small changes the timings hide.
        counter = cProfile.Profile()
        counter.enable()
        for _ in range(COUNTED):
            request()
        counter.disable()
        calls = pstats.Stats(counter).total_calls  # type: ignore[attr-defined]

        result = {
            "path": path,
            "cpu_ms_per_request_best": round(min(cpu), 3),
            "cpu_ms_runs": [round(x, 3) for x in cpu],
            "wall_ms_per_request_median": round(statistics.median(wall), 3),
            "python_calls_per_request": round(calls / COUNTED),
            "round_trips_per_request": round(len(logged) / COUNTED, 2),
            "round_trips_by_kind": {k: round(v / COUNTED, 2) for k, v in sorted(kinds.items())},
        }
        print(json.dumps(result, indent=2))
        if os.environ.get("BENCH_SHOW_SQL"):
            per_request = len(logged) // COUNTED
            print("\n".join(line[:120] for line in logged[-per_request:]))

        if args.profile:
            profiler = cProfile.Profile(time.process_time)  # CPU, not waits on the server
            profiler.enable()
            for _ in range(args.requests):
                request()
            profiler.disable()
            if os.environ.get("BENCH_PROFILE_OUT"):
                profiler.dump_stats(os.environ["BENCH_PROFILE_OUT"])
            stats = pstats.Stats(profiler)
            stats.sort_stats("tottime").print_stats(35)
            stats.sort_stats("cumulative").print_stats(60)
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
