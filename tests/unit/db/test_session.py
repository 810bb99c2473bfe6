"""The autocommit twin of an engine (app/db/session.py): one per engine, gone with it.

No database is needed: building an engine does not connect.
"""

from __future__ import annotations

import gc
import threading
import weakref

import sqlalchemy as sa

from app.db.session import autocommit_engine

URL = "postgresql+psycopg://notes@localhost/notes"


def test_one_twin_per_engine_with_autocommit() -> None:
    engine, other = sa.create_engine(URL), sa.create_engine(URL)
    twin = autocommit_engine(engine)
    assert autocommit_engine(engine) is twin
    assert autocommit_engine(other) is not twin
    assert twin.get_execution_options()["isolation_level"] == "AUTOCOMMIT"
    assert "isolation_level" not in engine.get_execution_options()


def test_every_thread_gets_the_same_twin() -> None:
    engine = sa.create_engine(URL)
    start = threading.Barrier(8)
    twins: list[sa.Engine] = []

    def first_request() -> None:
        start.wait()
        twins.append(autocommit_engine(engine))

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(twins) == 8 and all(twin is twins[0] for twin in twins)


def test_the_twin_does_not_keep_its_engine_alive() -> None:
    engine = sa.create_engine(URL)
    autocommit_engine(engine)
    gone = weakref.ref(engine)
    del engine
    gc.collect()
    assert gone() is None
