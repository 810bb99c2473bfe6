"""API call limits: fixed windows counted in the database, one row per key.

Every call of the API is counted against one or two quotas (the token's and
the user's) by a single statement: an upsert per key that adds one to the
count of the current window, or starts the count at one when the row's window
has ended. The database does the adding, so calls served at the same moment
by any worker of any replica are all counted (on PostgreSQL, concurrent
upserts of one row wait for each other's row lock); no call can slip
between a read and a write. A call refused by one quota is taken back from
the others by a second statement, run only then.

The count is committed before the view runs, so a call that fails afterwards
still counts and the view's transaction never holds the counter's row lock.
On PostgreSQL it runs in autocommit: one statement is atomic by itself, so
the count costs one round trip, with no BEGIN or COMMIT. A read (GET, HEAD)
runs it on the session's own connection, already in autocommit there
(app/db/session.py); a write, whose session is in a transaction, on a
pooled connection of its own for that one statement. SQLite (dev, tests)
commits it in a short transaction of its own. (docs/performance.md, "API rate limits")

Rows are locked in the order the quotas are given (token before user in
every call), so two calls that share a row can never wait for each other in
a cycle.

A fixed window lets a client spend a full quota at the end of one window and
another at the start of the next; that burst is bounded (twice the quota)
and is the price of one row per key instead of one per call.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..db.session import autocommit_engine
from ..db.statements import insert_for
from ..domain import RateLimited
from ..extensions import db
from .models import ApiRateWindow


def now() -> float:
    """Seconds since the epoch; the clock the windows are cut from (tests move it)."""
    return time.time()


@dataclass(frozen=True, slots=True)
class Quota:
    """At most ``limit`` calls per window against the counter ``key``.

    ``name`` is the policy's name in the RateLimit headers ("token", "user");
    ``owner`` says whose limit it is in a message ("this token"), and
    ``shared`` who shares it, if anyone ("all its tokens and sessions together").
    """

    name: str
    key: str
    limit: int
    owner: str
    shared: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    """Where one quota stands after a call was counted."""

    quota: Quota
    window: int
    count: int  # calls counted in the current window, this one included
    resets_in: int  # whole seconds until the window ends, at least 1

    @property
    def remaining(self) -> int:
        return max(0, self.quota.limit - self.count)

    @property
    def exceeded(self) -> bool:
        return self.count > self.quota.limit


def count_call(quotas: Sequence[Quota], *, window: int) -> list[Usage]:
    """Count one call against each of ``quotas`` (distinct keys) in windows of ``window`` seconds.

    A call that is over some quotas is taken back from the others (a second
    statement, only then): a refused call counts only where it was refused,
    so a runaway token that ignores its 429s does not use up its owner's quota.

    Committed before it returns, whatever happens to the call afterwards.
    Raises ValueError for no quotas or a window under a second; a database
    that cannot take the write raises SQLAlchemy's DBAPIError (an
    OperationalError is answered with a 503).
    """
    if not quotas or window < 1:
        raise ValueError("count_call needs at least one quota and a window of at least one second")
    moment = now()
    start = int(moment) // window * window
    counted = _run(
        upsert_statement(db.engine.dialect.name), [{"key": q.key, "window_start": start, "count": 1} for q in quotas]
    )
    rows = {key: (count, row_start) for key, count, row_start in counted}
    if any(rows[q.key][0] > q.limit for q in quotas):
        within = [q for q in quotas if rows[q.key][0] <= q.limit]
        if within:
            _run(take_back_statement(), [{"counted_key": q.key, "row_start": rows[q.key][1]} for q in within])
            rows.update({q.key: (rows[q.key][0] - 1, rows[q.key][1]) for q in within})
    usages = []
    for quota in quotas:
        count, row_start = rows[quota.key]
        # A window that started on another replica whose clock runs ahead
        # may end after ours would: wait for the row's, never longer than a window.
        resets_in = min(window, max(1, math.ceil(row_start + window - moment)))
        usages.append(Usage(quota, window, count, resets_in))
    return usages


def _run(statement: sa.Executable, params: list[dict[str, Any]]) -> Sequence[Any]:
    """Run ``statement`` and commit it at once, on the cheapest connection that leaves the request's transaction alone.

    Returns the rows it returned (none for a statement without RETURNING).
    """
    engine = db.engine
    if _session_autocommits():
        # A PostgreSQL read: the session's connection (the one the token was
        # looked up on) commits each statement by itself, and has no
        # transaction to disturb. No second connection per request.
        result = db.session.connection().execute(statement, params)
    elif engine.dialect.name == "postgresql":
        with autocommit_engine(engine).connect() as connection:
            result = connection.execute(statement, params)
            return result.all() if result.returns_rows else []
    else:
        with engine.begin() as connection:
            result = connection.execute(statement, params)
            return result.all() if result.returns_rows else []
    return result.all() if result.returns_rows else []


def _session_autocommits() -> bool:
    bind = db.session.get_bind()
    return isinstance(bind, sa.Engine) and bind.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


def refuse_if_exceeded(usages: Sequence[Usage]) -> None:
    """RateLimited, saying which limits are used up and when to retry, if any of ``usages`` is over its quota."""
    over = [usage for usage in usages if usage.exceeded]
    if not over:
        return
    wait = max(usage.resets_in for usage in over)
    limits = " and ".join(_limit(usage) for usage in over)
    verb = "is" if len(over) == 1 else "are"
    raise RateLimited(
        f"{limits[0].upper()}{limits[1:]} {verb} used up. Try again in {_seconds(wait)}.",
        retry_after=wait,
    )


def _limit(usage: Usage) -> str:
    quota = usage.quota
    shared = f" ({quota.shared})" if quota.shared else ""
    return f"{quota.owner}'s limit of {quota.limit} API requests per {_seconds(usage.window)}{shared}"


def _seconds(n: int) -> str:
    return f"{n} second{'s' if n != 1 else ''}"


@functools.cache
def take_back_statement() -> sa.Update:
    """One call less for ``counted_key``, if its window is still the one starting at ``row_start``."""
    row = ApiRateWindow
    return (
        sa.update(row)
        .where(row.key == sa.bindparam("counted_key"), row.window_start == sa.bindparam("row_start"))
        .values(count=row.count - 1)
    )


@functools.cache
def upsert_statement(dialect: str) -> sa.Insert:
    """``INSERT ... ON CONFLICT (key) DO UPDATE ... RETURNING`` for one row, built once per dialect.

    Executed with one parameter set per key, which SQLAlchemy sends as one
    multi-row statement ("insertmanyvalues"); a statement built with several
    VALUES rows of its own could not be cached and was compiled on every
    call (about 0.5 ms of CPU each). A row whose window is the current one
    (or a later one, started by a replica whose clock runs ahead) gets one
    more call; an older window starts over at one.
    """
    row = ApiRateWindow
    statement = insert_for(dialect)(row)
    current = row.window_start >= statement.excluded.window_start
    return statement.on_conflict_do_update(
        index_elements=[row.key],
        set_={
            "count": sa.case((current, row.count + 1), else_=1),
            "window_start": sa.case((current, row.window_start), else_=statement.excluded.window_start),
        },
    ).returning(row.key, row.count, row.window_start)
