"""A bounded write load for fault tests, and the check for lost writes.

`WriteLoad` runs a few threads that POST notes through nginx (HTTPS, bearer
token) and records every outcome: each 201 with its note id is an
acknowledged write, everything else is counted by kind (HTTP status or the
exception's class name). A write that fails (a 5xx, a 409 while its first
answer is being stored, a dropped connection) is retried with the same
Idempotency-Key, as a careful client would. `lost_writes` then asks
PostgreSQL directly which acknowledged ids are missing, so a fault that
drops a committed row cannot hide behind the app, and which titles were
stored twice (a retry that wrote again).

Every loop here is bounded in time and count: a writer stops at its
deadline or after `max_requests_per_writer`, whichever comes first.
"""

from __future__ import annotations

import re
import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
from tests.helpers.stack import Stack

# Seconds. A write slower than this counts as an error (ReadTimeout); healthy
# writes take milliseconds, so only a stuck one ever reaches it.
REQUEST_TIMEOUT = 20
# Tries of one write (the first and its retries with the same key).
MAX_ATTEMPTS = 50
# Answers after which a write is tried again with its key: the database or
# the web server was away, or the first try's answer was still being stored.
RETRIED = frozenset({"409", "500", "502", "503", "504"})


@dataclass
class Outcome:
    """One request: when it started and ended (monotonic s), what came back."""

    started: float
    ended: float
    result: str  # "201", "503", ... or an exception class name
    note_id: int | None = None


@dataclass
class LoadSummary:
    """The figures of one run of the load, as reported in docs/reliability.md."""

    seconds: float
    requests: int
    acknowledged: int
    errors: int  # 5xx, 409 (a retry while the first answer was being stored) and connection-level failures
    other: int  # any other non-201 answer (4xx): a bug in the load, never expected
    by_kind: dict[str, int] = field(default_factory=dict)
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    max_ms: float = 0.0


class WriteLoad:
    """Writers posting notes until stopped; use as a context manager.

    ``with WriteLoad(stack, token, seconds=20) as load: ...`` starts the
    writers on entry and stops and joins them on exit. Titles carry a run
    tag so rows written by this load (acknowledged or not) can be found.
    """

    def __init__(
        self,
        stack: Stack,
        token: str,
        *,
        seconds: float,
        writers: int = 4,
        max_requests_per_writer: int = 20_000,
        per_writer_rate: float | None = None,
    ) -> None:
        self.stack = stack
        # Writes a second per writer at most; None: back to back.
        self.interval = 1 / per_writer_rate if per_writer_rate else 0.0
        self.token = token
        self.seconds = seconds
        self.writers = writers
        self.max_requests_per_writer = max_requests_per_writer
        self.tag = f"chaos-{uuid.uuid4().hex[:10]}"
        self.outcomes: list[Outcome] = []
        self.writes_begun = 0  # writes (each with its retries), not attempts
        self.acknowledged: dict[int, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.started = 0.0
        self.finished = 0.0

    def __enter__(self) -> WriteLoad:
        self.started = time.monotonic()
        deadline = self.started + self.seconds
        self._threads = [
            threading.Thread(target=self._writer, args=(i, deadline), daemon=True) for i in range(self.writers)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait(self) -> None:
        """Block until the writers reach their deadline (or their request cap)."""
        for thread in self._threads:
            thread.join(timeout=self.seconds + REQUEST_TIMEOUT + 10)

    def stop(self) -> None:
        """Stop the writers now and wait for their last request to end."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=REQUEST_TIMEOUT + 10)
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            raise AssertionError(f"writers did not stop: {alive}")
        self.finished = self.finished or time.monotonic()

    def _writer(self, worker: int, deadline: float) -> None:
        session = self.stack.session()
        session.headers["Authorization"] = f"Bearer {self.token}"
        url = self.stack.url("/api/v1/notes")
        requests_made = 0
        n = 0
        next_at = time.monotonic()
        while requests_made < self.max_requests_per_writer:
            if self.interval:
                next_at += self.interval
                self._stop.wait(max(0.0, next_at - time.monotonic()))
            if self._stop.is_set() or time.monotonic() >= deadline:
                break
            title = f"{self.tag}-{worker}-{n}"
            key = {"Idempotency-Key": uuid.uuid4().hex}
            n += 1
            with self._lock:
                self.writes_begun += 1
            for _ in range(MAX_ATTEMPTS):
                started = time.monotonic()
                note_id: int | None = None
                try:
                    response = session.post(
                        url, json={"title": title, "content": "load"}, headers=key, timeout=REQUEST_TIMEOUT
                    )
                    result = str(response.status_code)
                    if response.status_code == 201:
                        note_id = int(response.json()["id"])
                except (requests.RequestException, ValueError, KeyError) as exc:
                    result = type(exc).__name__
                requests_made += 1
                outcome = Outcome(started, time.monotonic(), result, note_id)
                with self._lock:
                    self.outcomes.append(outcome)
                    if note_id is not None:
                        self.acknowledged[note_id] = title
                retry = note_id is None and (result in RETRIED or not result.isdigit())
                if not retry or self._stop.is_set():
                    break
                time.sleep(0.05)  # do not spin on a refused connection

    # --- figures -------------------------------------------------------------

    def snapshot(self) -> list[Outcome]:
        with self._lock:
            return list(self.outcomes)

    def first_success_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` until a write that started after it was acknowledged."""
        ends = [o.ended for o in self.snapshot() if o.note_id is not None and o.started >= moment]
        return min(ends) - moment if ends else None

    def summary(self, since: float | None = None, until: float | None = None) -> LoadSummary:
        """Counts (optionally only requests started in [since, until))."""
        lo = self.started if since is None else since
        hi = (self.finished or time.monotonic()) if until is None else until
        chosen = [o for o in self.snapshot() if lo <= o.started < hi]
        kinds = Counter(o.result for o in chosen)
        errors = sum(n for kind, n in kinds.items() if not kind.isdigit() or kind.startswith("5") or kind == "409")
        acknowledged = sum(1 for o in chosen if o.note_id is not None)
        latencies = sorted((o.ended - o.started) * 1000 for o in chosen if o.note_id is not None)
        summary = LoadSummary(
            seconds=round(hi - lo, 1),
            requests=len(chosen),
            acknowledged=acknowledged,
            errors=errors,
            other=len(chosen) - acknowledged - errors,
            by_kind=dict(sorted(kinds.items())),
        )
        if latencies:
            summary.p50_ms = round(statistics.median(latencies), 1)
            summary.p95_ms = round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))], 1)
            summary.max_ms = round(latencies[-1], 1)
        return summary


def psql(stack: Stack, sql: str) -> str:
    """Run ``sql`` with psql in the db container; its unaligned output.

    Raises AssertionError (with psql's output) when the statement fails.
    """
    return stack.exec(
        "db", "sh", "-c", 'exec psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v ON_ERROR_STOP=1 -Atq -c "$1"', "psql", sql
    )


def stored_rows(stack: Stack, tag: str) -> dict[int, str]:
    """Every note whose title starts with ``tag``: id -> title, read with psql."""
    assert re.fullmatch(r"[a-z0-9-]+", tag), f"unsafe tag {tag!r}"  # it is spliced into SQL below
    sql = f"COPY (SELECT id, title FROM notes WHERE title LIKE '{tag}-%') TO STDOUT"  # noqa: S608 - checked above
    rows: dict[int, str] = {}
    for line in psql(stack, sql).splitlines():
        note_id, title = line.split("\t", 1)
        rows[int(note_id)] = title
    return rows


def lost_writes(stack: Stack, load: WriteLoad) -> dict[str, Any]:
    """Compare the acknowledged writes with the database.

    Returns ``lost`` (acknowledged ids missing or with another title),
    ``unacknowledged_stored`` (rows the load wrote whose 201 never arrived:
    allowed, the client saw an error and stopped retrying) and
    ``duplicates`` (rows beyond the first with one title: a retry that wrote
    a second note, which its Idempotency-Key must prevent).
    """
    rows = stored_rows(stack, load.tag)
    lost = sorted(i for i, title in load.acknowledged.items() if rows.get(i) != title)
    extra = sorted(set(rows) - set(load.acknowledged))
    duplicates = sum(n - 1 for n in Counter(rows.values()).values() if n > 1)
    return {"lost": lost, "unacknowledged_stored": extra, "duplicates": duplicates, "stored": len(rows)}
