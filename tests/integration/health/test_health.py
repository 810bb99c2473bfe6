"""Liveness and readiness probes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask
from tests.helpers.app import make_app
from tests.helpers.schema import create_schema

from app.db import schema
from app.extensions import db


def test_healthz_is_ok_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"status": "ok"}


def _head(app: Flask) -> str:
    head = ScriptDirectory(app.extensions["migrate"].directory).get_current_head()
    assert head is not None
    return head


def _older(app: Flask) -> str:
    """The revision before the head: what a database not yet migrated by this release holds."""
    older = ScriptDirectory(app.extensions["migrate"].directory).get_revision(_head(app)).down_revision
    assert isinstance(older, str)
    return older


def test_readyz_is_ready_when_the_database_answers_at_the_head(app, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    head = _head(app)
    assert response.get_json() == {
        "status": "ready",
        "database": "ok",
        "schema": "current",
        "revision": head,
        "head": head,
    }


VERSION = sa.table("alembic_version", sa.column("version_num"))


@pytest.fixture
def stored_revisions(app: Flask) -> Iterator[Callable[..., None]]:
    """Sets what alembic_version holds (or drops the table: None); the head is put back afterwards."""

    def store(*revisions: str | None) -> None:
        with db.engine.begin() as conn:
            if revisions == (None,):
                conn.execute(sa.text("DROP TABLE alembic_version"))
                return
            conn.execute(VERSION.delete())
            for revision in revisions:
                conn.execute(VERSION.insert().values(version_num=revision))

    yield store
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    create_schema()


def test_readyz_is_503_while_the_schema_is_an_older_revision(app, client, stored_revisions):
    older = _older(app)
    stored_revisions(older)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "status": "unavailable",
        "database": "ok",
        "schema": "behind",
        "revision": older,
        "head": _head(app),
    }


@pytest.mark.parametrize("stored", [(None,), ()], ids=["no version table", "empty version table"])
def test_readyz_is_503_when_the_database_was_never_migrated(app, client, stored_revisions, stored):
    stored_revisions(*stored)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "database": "ok",
        "schema": "behind",
        "revision": None,
        "head": _head(app),
    }


def test_readyz_is_ready_when_a_newer_release_migrated_the_database(app, client, stored_revisions):
    # Expand/contract migrations keep this code working on the newer schema during a rolling update.
    stored_revisions("9999_from_a_newer_release")
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ready",
        "database": "ok",
        "schema": "ahead",
        "revision": "9999_from_a_newer_release",
        "head": _head(app),
    }


def test_readyz_is_503_when_any_stored_revision_is_behind(app, client, stored_revisions):
    stored_revisions("9999_from_a_newer_release", _older(app))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["schema"] == "behind"


def test_readyz_asks_the_database_one_statement(client):
    statements: list[str] = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    client.get("/readyz")  # the first probe reads the migrations directory
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get("/readyz").status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 1, statements
    assert "alembic_version" in statements[0]


def test_the_migrations_are_read_once_per_app_on_first_use_not_when_it_is_built(monkeypatch):
    reads = []
    real = schema.ScriptDirectory

    def counting(directory):
        reads.append(directory)
        return real(directory)

    monkeypatch.setattr(schema, "ScriptDirectory", counting)
    app = make_app()
    assert reads == []
    with app.app_context():
        create_schema()
        client = app.test_client()
        for _ in range(3):
            assert client.get("/readyz").status_code == 200
        db.session.remove()
    assert reads == [app.extensions["migrate"].directory]


def test_a_database_error_on_the_version_table_is_unreachable_not_behind(client, monkeypatch):
    """A failing query on a version table that is there says nothing about the schema: it is the database."""
    real_execute = db.session.execute

    def failing(*args, **kwargs):
        raise sa.exc.ProgrammingError("SELECT version_num", {}, Exception("permission denied"))

    monkeypatch.setattr(db.session, "execute", failing)
    response = client.get("/readyz")
    monkeypatch.setattr(db.session, "execute", real_execute)
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}


@pytest.fixture
def app_without_database(tmp_path):
    # SQLite cannot create a file in a directory that does not exist.
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/notes.db")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_readyz_is_503_when_the_database_is_unreachable(app_without_database):
    response = app_without_database.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}
    # Nothing about the failure (paths, driver messages) leaks to the caller.
    assert b"missing" not in response.data and b"sqlite" not in response.data.lower()


def test_healthz_stays_up_without_the_database(app_without_database):
    assert app_without_database.test_client().get("/healthz").status_code == 200


def test_readyz_recovers_when_a_query_fails_once(app, client, monkeypatch):
    real_execute = db.session.execute
    calls = []

    def failing_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))
        return real_execute(*args, **kwargs)

    monkeypatch.setattr(db.session, "execute", failing_once)
    assert client.get("/readyz").status_code == 503
    # A failed check leaves nothing behind: the next one answers normally.
    assert client.get("/readyz").status_code == 200


def test_probes_need_no_login_and_take_no_session(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
