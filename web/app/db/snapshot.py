"""One snapshot of the database for a read made of many statements (an export).

Each statement of a request otherwise sees the database as it is when that
statement starts (READ COMMITTED on PostgreSQL, autocommit reads on SQLite),
so a read done in batches can see a row in one batch that another request
has deleted by the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session


@contextmanager
def one_snapshot(session: Session) -> Iterator[None]:
    """Within the block, ``session`` reads the database as it was when the block's first
    statement ran, whatever other connections commit meanwhile; the block's transaction is
    rolled back when it ends, so it writes nothing.

    PostgreSQL: a REPEATABLE READ, READ ONLY transaction (a write in the block fails).
    SQLite: an explicit BEGIN, whose first read holds its snapshot until the end (the
    app runs SQLite in WAL mode, so writers elsewhere go on meanwhile).

    A session bound to a connection already in a transaction (its caller's) keeps that
    transaction's isolation. Raises RuntimeError when ``session`` itself is already in a
    transaction: what it has read so far is from another time, and the isolation of a
    transaction cannot change once it has begun. Commit or roll back first.
    """
    if session.in_transaction():
        raise RuntimeError("one_snapshot must begin a transaction: commit or roll back the session first")
    bind = session.get_bind()
    if isinstance(bind, sa.Connection) and bind.in_transaction():
        # The session joins a transaction its caller began and owns (the e2e tests'
        # savepoints inside one outer transaction): that one's isolation stands.
        pass
    elif bind.dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True})
    elif bind.dialect.name == "sqlite":
        # pysqlite begins a transaction only before a write: reads would each stand alone.
        session.execute(sa.text("BEGIN"))
    try:
        yield
    finally:
        session.rollback()
