"""One app per pytest process, lent to each test as new.

Building an app costs ~20 ms (URL rules, the OpenAPI document) and compiling
its templates more, so each process builds it once (``built_once``) and
every test borrows it through ``as_new``: its configuration restored, every
table emptied, whether the test passed or not.
"""

from __future__ import annotations

import copy
import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask

from app.models import db

from .app import make_app
from .schema import create_schema

_ACCESS_LOG = logging.getLogger("notes.access")


def _empty_tables() -> None:
    """Delete every row, children first, so ids and the FTS5 index start over."""
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
        # The FTS5 triggers already removed each row; 'delete-all' also clears
        # anything a test wrote to the index by hand.
        connection.exec_driver_sql("INSERT INTO notes_fts(notes_fts) VALUES ('delete-all')")


class _Baseline:
    """What a shared app looked like when it was built, to hand it back that way.

    The access logger is in it because it is process-wide: any ``create_app``
    a test runs (DevConfig turns it on) would otherwise change later tests.
    """

    def __init__(self, app: Flask) -> None:
        self.config = copy.deepcopy(dict(app.config))
        self.access_log = (list(_ACCESS_LOG.handlers), _ACCESS_LOG.level, _ACCESS_LOG.propagate)

    def restore(self, app: Flask) -> None:
        app.config.clear()
        app.config.update(copy.deepcopy(self.config))
        handlers, level, propagate = self.access_log
        _ACCESS_LOG.handlers[:] = handlers
        _ACCESS_LOG.setLevel(level)
        _ACCESS_LOG.propagate = propagate


_baselines: dict[Flask, _Baseline] = {}


def built_once(**overrides: Any) -> Flask:
    """A test app with its tables, at the migrations' head, ready to be lent by ``as_new``."""
    app = make_app(**overrides)
    with app.app_context():
        create_schema()
    # A route added by one test would outlive it. Flask refuses new routes
    # once an app has served a request, so serve one now: from here on
    # add_url_rule raises, and a test that needs routes asks for fresh_app.
    response = app.test_client().get(app.config["URL_PREFIX"] + "/healthz")
    assert response.status_code == 200, response.get_data(as_text=True)
    _baselines[app] = _Baseline(app)
    return app


@contextmanager
def as_new(app: Flask) -> Iterator[Flask]:
    """Lend the shared ``app`` to one test and hand it back as it was built.

    Tests may change ``app.config`` (page sizes, limits, TESTING, even values
    inside it) and build other apps; all of that is undone, and the rows the
    test wrote are deleted, whether the test passed or not.
    """
    context = app.app_context()
    context.push()
    try:
        yield app
    finally:
        try:
            db.session.remove()
            _empty_tables()
            # And the attachment files those rows named.
            shutil.rmtree(app.config["ATTACHMENTS_DIR"], ignore_errors=True)
        finally:
            context.pop()
            _baselines[app].restore(app)
