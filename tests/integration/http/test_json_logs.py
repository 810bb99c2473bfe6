"""LOG_FORMAT=json: the app's lines (its access line under the dev server, and
any logger's) are JSON, with the request id and the user id, never an email."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, current_app, g
from tests.helpers.app import make_app
from tests.helpers.data import PASSWORD, Factory
from tests.helpers.web import bearer

from app.extensions import db
from app.http.logs import user_id

ACCESS = "notes.access"


@pytest.fixture
def json_app(capsys: Any) -> Iterator[Flask]:
    """A JSON-logging app writing to capsys' stderr; the process-wide loggers it sets up are put back afterwards."""
    root, access = logging.getLogger(), logging.getLogger(ACCESS)
    saved = (list(root.handlers), list(access.handlers), access.level, access.propagate)
    app = make_app(LOG_FORMAT="json", ACCESS_LOG=True)

    @app.get("/_log_something")
    def log_something() -> str:
        current_app.logger.warning("from the app logger")
        logging.getLogger("notes.somewhere").warning("from a module logger")
        return "ok"

    try:
        with app.app_context():
            db.create_all()
            yield app
            db.session.remove()
    finally:
        root.handlers[:] = saved[0]
        access.handlers[:] = saved[1]
        access.setLevel(saved[2])
        access.propagate = saved[3]


def _entries(text: str) -> list[dict[str, Any]]:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, "nothing was logged"

    return [json.loads(line) for line in lines]  # fails on any line that is not JSON


def test_the_access_line_has_the_request_id_user_id_and_duration(json_app: Flask, capsys: Any) -> None:
    user = Factory().user("logger@example.com")
    client = json_app.test_client()
    client.post("/auth/login", data={"email": "logger@example.com", "password": PASSWORD})
    capsys.readouterr()
    client.get("/notes/", headers={"X-Request-ID": "trace-json-2"})
    [line] = _entries(capsys.readouterr().err)
    assert line["logger"] == ACCESS
    assert line["request_id"] == "trace-json-2"
    assert line["user_id"] == user.id
    assert line["method"] == "GET" and line["path"] == "/notes/" and line["status"] == 200
    assert isinstance(line["duration_ms"], float)


def test_a_token_call_is_logged_with_its_owner_and_no_email(json_app: Flask, capsys: Any) -> None:
    factory = Factory()
    user = factory.user("caller@example.com")
    _, secret = factory.token(user, name="log test")
    capsys.readouterr()
    json_app.test_client().get("/api/v1/notes", headers=bearer(secret))
    err = capsys.readouterr().err
    [line] = _entries(err)
    assert line["user_id"] == user.id
    assert "caller@example.com" not in err
    assert secret not in err


def test_nobody_logged_in_means_no_user_id(json_app: Flask, capsys: Any) -> None:
    capsys.readouterr()
    json_app.test_client().get("/healthz")
    [line] = _entries(capsys.readouterr().err)
    assert "user_id" not in line
    assert line["request_id"]


def test_every_logger_writes_json_with_the_request_id(json_app: Flask, capsys: Any) -> None:
    capsys.readouterr()
    json_app.test_client().get("/_log_something", headers={"X-Request-ID": "trace-json-3"})
    entries = _entries(capsys.readouterr().err)
    messages = {e["message"]: e for e in entries}
    assert messages["from the app logger"]["request_id"] == "trace-json-3"
    assert messages["from a module logger"]["request_id"] == "trace-json-3"
    assert len(entries) == 3  # the two, and the access line: Flask's own handler wrote nothing twice


def test_the_user_id_costs_no_query_even_for_an_expired_user(app: Flask) -> None:
    """A request whose write failed (a locked database: a 503 page) still logs: reading the
    id must not refresh the user, which would raise instead of answering."""
    user = Factory().user("expired@example.com")
    known = user.id
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    with app.test_request_context("/"):
        g._login_user = user
        db.session.expire(user)  # as a commit earlier in the request leaves it
        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert user_id() == known
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
    assert statements == []
