"""The shared test app (tests/conftest.py) hands every test a clean app.

One app is built per pytest process and lent to each test in turn; these
checks lend it twice in a row, the way two tests would get it, and prove the
second borrower sees nothing of the first: no rows (notes, users, tokens, the
search index), no configuration changes, and no way to add routes.
"""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from flask import Flask
from tests.helpers.app import make_app
from tests.helpers.data import Factory
from tests.helpers.shared_app import as_new

from app.models import ApiToken, Note, Tag, User, db


def _index_matches(word: str) -> int:
    """How many entries of the FTS5 index hold ``word`` (MATCH reads the index itself)."""
    query = sa.text("SELECT count(*) FROM notes_fts WHERE notes_fts MATCH :word")
    return db.session.execute(query, {"word": word}).scalar_one()


def test_rows_written_by_one_test_are_gone_for_the_next(_shared_app: Flask) -> None:
    with as_new(_shared_app):
        factory = Factory()
        owner = factory.user("first@example.com")
        factory.note(owner, title="quasar findings")
        factory.token(owner)
        assert _index_matches("quasar") == 1

    with as_new(_shared_app):
        for model in (User, Note, ApiToken, Tag):
            assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0, model.__name__
        assert _index_matches("quasar") == 0
        # Ids start over as in a new database: nothing depends on test order.
        assert Factory().user("second@example.com").id == 1


def test_config_changed_by_one_test_is_restored_for_the_next(_shared_app: Flask) -> None:
    per_page = _shared_app.config["NOTES_PER_PAGE"]
    with as_new(_shared_app) as app:
        app.config["NOTES_PER_PAGE"] = per_page + 7
        app.config["SOMETHING_NEW"] = True
        app.testing = False

    with as_new(_shared_app) as app:
        assert app.config["NOTES_PER_PAGE"] == per_page
        assert "SOMETHING_NEW" not in app.config
        assert app.testing is True


def test_values_changed_inside_the_config_are_restored_too(_shared_app: Flask) -> None:
    options = dict(_shared_app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    with as_new(_shared_app) as app:
        app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] = "changed in place"

    with as_new(_shared_app) as app:
        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == options
        assert "changed in place" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"].values()


def test_another_app_built_by_a_test_does_not_turn_the_access_log_on(_shared_app: Flask) -> None:
    access_log = logging.getLogger("notes.access")
    before = (access_log.level, list(access_log.handlers), access_log.propagate)
    with as_new(_shared_app):
        make_app(ACCESS_LOG=True)  # the logger is process-wide: this turns it on
        assert access_log.level == logging.INFO

    with as_new(_shared_app):
        assert (access_log.level, list(access_log.handlers), access_log.propagate) == before


def test_rows_are_deleted_even_when_the_test_fails(_shared_app: Flask) -> None:
    with pytest.raises(RuntimeError), as_new(_shared_app):
        Factory().user("failing@example.com")
        raise RuntimeError("the test failed here")

    with as_new(_shared_app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_a_route_cannot_be_added_to_the_shared_app(_shared_app: Flask) -> None:
    # It would outlive the test that added it; such a test asks for fresh_app.
    with pytest.raises(AssertionError, match="can no longer be called"):
        _shared_app.add_url_rule("/leak", "leak", lambda: "leak")
