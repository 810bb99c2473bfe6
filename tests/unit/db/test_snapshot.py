"""one_snapshot (app/db/snapshot.py) on a SQLite file in WAL mode, as the embedded default runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db.snapshot import one_snapshot


@pytest.fixture
def engine(tmp_path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'snapshot.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    return engine


def test_the_block_reads_as_at_its_first_statement(engine: sa.Engine) -> None:
    with Session(engine) as session, one_snapshot(session):
        assert session.scalar(sa.text("SELECT count(*) FROM t")) == 1
        with engine.begin() as other:  # another connection commits meanwhile
            other.exec_driver_sql("INSERT INTO t VALUES (2)")
        assert session.scalar(sa.text("SELECT count(*) FROM t")) == 1
    with Session(engine) as session:
        assert session.scalar(sa.text("SELECT count(*) FROM t")) == 2


def test_what_the_block_writes_is_rolled_back(engine: sa.Engine) -> None:
    with Session(engine) as session:
        with one_snapshot(session):
            session.execute(sa.text("INSERT INTO t VALUES (3)"))
        assert not session.in_transaction()
        assert session.scalar(sa.text("SELECT count(*) FROM t")) == 1


def test_a_session_already_in_a_transaction_is_refused(engine: sa.Engine) -> None:
    with Session(engine) as session:
        session.execute(sa.text("SELECT 1"))
        with pytest.raises(RuntimeError, match="commit or roll back the session first"), one_snapshot(session):
            pass
