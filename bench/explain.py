"""EXPLAIN ANALYZE of the app's own list and search queries (runs in the bench web container).

    docker compose exec -T -e BENCH_COMMON=project -e BENCH_RARE=quasar web python /bench/explain.py

Calls the same service functions the API calls (notes.service.list_notes,
notes.service.search, tokens.find_usable_token, notes.tags.tag_counts) for the
bench's users, captures every SQL statement they send with its parameters,
and runs each through ``EXPLAIN (ANALYZE, BUFFERS)`` REPEATS times. Prints
JSON: per case, each statement's plan (from the last run) and the median
planning + execution time in milliseconds, i.e. the database's share of a request.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.getcwd())  # the web image's /app

import sqlalchemy as sa

from app import create_app
from app.models import ApiToken, User, db
from app.notes.service import list_note_rows, list_notes, search
from app.notes.tags import tag_counts

REPEATS = 11
_INDEX = re.compile(r"(?:Index Only Scan|Index Scan)(?: Backward)? using (\w+)|Bitmap Index Scan on (\w+)")
_TIME = re.compile(r"(Planning|Execution) Time: ([0-9.]+) ms")


def capture(fn: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The SELECT statements ``fn`` sends, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def listener(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        # Reloading the expired user object is this script's doing, not the request's.
        if statement.lstrip().upper().startswith("SELECT") and not statement.lstrip().startswith("SELECT users."):
            seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
        db.session.rollback()
    return seen


def explain(statement: str, parameters: Any) -> dict[str, Any]:
    times, plan = [], ""
    with db.engine.connect() as conn:
        for _ in range(REPEATS):
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
            plan = "\n".join(row[0] for row in rows)
            found = dict((kind, float(ms)) for kind, ms in _TIME.findall(plan))
            times.append(found.get("Planning", 0.0) + found.get("Execution", 0.0))
    return {
        "sql": statement,
        "plan": plan,
        "median_ms": round(statistics.median(times), 3),
        "uses": sorted({a or b for a, b in _INDEX.findall(plan)}),
        "seq_scan_on_notes": bool(re.search(r"Seq Scan on notes\b", plan)),
    }


def main() -> None:
    common, rare = os.environ.get("BENCH_COMMON", "project"), os.environ.get("BENCH_RARE", "quasar")
    app = create_app()
    out: dict[str, Any] = {}
    with app.app_context():
        small = db.session.scalar(sa.select(User).where(User.email == "small@bench.test"))
        large = db.session.scalar(sa.select(User).where(User.email == "large@bench.test"))
        assert small is not None and large is not None, "run bench/seed.py first"
        second_page = list_notes(large, limit=20).next_cursor
        token_hash = db.session.scalar(sa.select(ApiToken.token_hash).where(ApiToken.owner_id == large.id))
        cases: dict[str, Callable[[], Any]] = {
            "list_1k": lambda: list_note_rows(small, limit=20),
            "list_100k": lambda: list_note_rows(large, limit=20),
            "list_100k_page2": lambda: list_note_rows(large, limit=20, cursor=second_page),
            "html_list_100k": lambda: list_notes(large, limit=20),
            "search_common_1k": lambda: search(small, common, limit=20, archived=False, trashed=False),
            "search_common_100k": lambda: search(large, common, limit=20, archived=False, trashed=False),
            "search_rare_1k": lambda: search(small, rare, limit=20, archived=False, trashed=False),
            "search_rare_100k": lambda: search(large, rare, limit=20, archived=False, trashed=False),
            "tag_counts_100k": lambda: tag_counts(large),
            "token_lookup": lambda: db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_hash)),
        }
        for name, fn in cases.items():
            statements = capture(fn)
            results = [explain(sql, params) for sql, params in statements]
            out[name] = {"statements": results, "db_ms": round(sum(r["median_ms"] for r in results), 3)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
