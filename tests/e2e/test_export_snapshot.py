"""On PostgreSQL, an export reads one snapshot: what another request changes meanwhile is not half in it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from tests.helpers.export_snapshot import assert_one_snapshot, export_while_another_request_changes_it

from app.db.snapshot import one_snapshot
from app.models import db

pytestmark = pytest.mark.e2e


def test_an_export_is_the_account_as_it_was_when_it_began(
    committed_app: Callable[[], Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_one_snapshot(export_while_another_request_changes_it(committed_app(), monkeypatch))


def test_the_snapshot_reads_as_at_its_first_statement_and_writes_nothing(
    committed_app: Callable[[], Flask],
) -> None:
    app = committed_app()
    with app.app_context():
        count = sa.text("SELECT count(*) FROM rate_events")
        with one_snapshot(db.session()):
            assert db.session.scalar(count) == 0
            with db.engine.begin() as other:  # another connection commits meanwhile
                other.execute(sa.text("INSERT INTO rate_events (key, created_at) VALUES ('k', now())"))
            assert db.session.scalar(count) == 0
            with pytest.raises(sa.exc.InternalError, match="read-only transaction"):
                db.session.execute(sa.text("DELETE FROM rate_events"))
        assert not db.session().in_transaction()
        assert db.session.scalar(count) == 1
