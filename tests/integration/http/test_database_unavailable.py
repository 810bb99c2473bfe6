"""A database that will not take a write (locked, restarting, full) is a 503 with Retry-After, never a 500."""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa
from flask import Flask
from tests.helpers.api import API, assert_problem
from tests.helpers.data import PASSWORD, Factory
from tests.helpers.web import bearer

from app.models import Note, db


def _locked(path: str) -> sqlite3.Connection:
    """Another writer holding the database's write lock."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def _notes() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Note)) or 0


def test_a_write_that_cannot_get_the_lock_is_a_503_problem_and_writes_nothing(file_app: Flask) -> None:
    user = Factory().user("alice@example.com")
    _, secret = Factory().token(user)
    other = _locked(file_app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    try:
        response = file_app.test_client().post(f"{API}/notes", json={"title": "waits"}, headers=bearer(secret))
        body = assert_problem(response, 503)
        assert "Try again in a few seconds" in body["detail"]
        assert int(response.headers["Retry-After"]) > 0
    finally:
        other.rollback()
        other.close()
    assert _notes() == 0
    # Once the lock is gone the same request goes through.
    retry = file_app.test_client().post(f"{API}/notes", json={"title": "waits"}, headers=bearer(secret))
    assert retry.status_code == 201


def test_a_page_that_cannot_write_says_so_with_a_503_page(file_app: Flask) -> None:
    Factory().user("alice@example.com")
    client = file_app.test_client()
    assert client.post("/auth/login", data={"email": "alice@example.com", "password": PASSWORD}).status_code == 302
    other = _locked(file_app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    try:
        response = client.post("/notes/", data={"title": "waits", "content": "x"})
    finally:
        other.rollback()
        other.close()
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "Try again in a few seconds" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    assert _notes() == 0


def test_an_operational_error_that_is_a_bug_stays_a_logged_500(app, client, headers, monkeypatch, caplog) -> None:
    """SQLite calls wrong SQL (a missing table: a migration not run) an OperationalError too; that is no 503."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def missing_table(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise sa.exc.OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: rate_events"))

    monkeypatch.setattr("app.notes.api.list_note_rows", missing_table)
    response = client.get(f"{API}/notes", headers=headers)
    assert "Something went wrong on our side" in assert_problem(response, 500)["detail"]
    assert "Retry-After" not in response.headers
    assert any(record.levelname == "ERROR" and record.exc_info for record in caplog.records)


def _full(app: Flask) -> None:
    """Every new connection of the app may not grow the database file: SQLite's "disk is full"."""
    pages = db.session.execute(sa.text("PRAGMA page_count")).scalar_one()

    def cap(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    sa.event.listen(db.engine, "connect", cap)
    db.session.remove()
    db.engine.dispose()


def test_a_full_disk_is_a_503_that_says_so_and_reads_go_on(file_app: Flask) -> None:
    user = Factory().user("alice@example.com")
    _, secret = Factory().token(user)
    client = file_app.test_client()
    assert client.post(f"{API}/notes", json={"title": "before"}, headers=bearer(secret)).status_code == 201
    _full(file_app)
    refused = []
    for i in range(200):  # until a write needs a new page
        response = client.post(f"{API}/notes", json={"title": f"n{i}", "content": "x" * 2000}, headers=bearer(secret))
        if response.status_code != 201:
            refused.append(response)
            break
    assert refused, "the capped database never filled"
    body = assert_problem(refused[0], 503)
    assert "storage is full" in body["detail"] and "not saved" in body["detail"]
    assert int(refused[0].headers["Retry-After"]) >= 60
    listed = client.get(f"{API}/notes?limit=100", headers=bearer(secret))
    assert listed.status_code == 200
    assert _notes() == len(listed.get_json()["items"])  # the refused write left nothing behind
