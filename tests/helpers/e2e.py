"""Small helpers shared by the e2e tests."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from tests.helpers.data import PASSWORD
from werkzeug.test import TestResponse

from app.accounts.passwords import hash_password
from app.accounts.tokens import create_token
from app.models import Note, User, db, utcnow
from app.notes.tags import assign_tags

API = "/api/v1"


def e2e_config(url: str, **extra: Any) -> dict[str, Any]:
    """The factory's test override, pointed at ``url``, with attachment files in a directory of its own."""
    files = tempfile.mkdtemp(prefix="notes-e2e-attachments-")
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "ATTACHMENTS_DIR": files,
        **extra,
    }


def dispose(app: Flask) -> None:
    """Close the pooled connections of ``app`` so its database can be dropped."""
    with app.app_context():
        db.engine.dispose()


def count(model: type[Any], *where: Any) -> int:
    """Rows of ``model`` (matching ``where``) as stored now, not as cached."""
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def stored_note(note_id: int) -> Note | None:
    """The note as the database holds it now, or None when it is gone."""
    db.session.expire_all()
    return db.session.get(Note, note_id)


def etag(note_id: int, version: int) -> str:
    return f'"{note_id}-{version}"'


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    """Check ``response`` is an RFC 9457 problem with ``status``; return its body."""
    assert response.status_code == status, text(response)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    """Log ``client`` in through the real form; fail unless it redirects."""
    response = client.post("/auth/login", data={"email": email, "password": password})
    assert response.status_code == 302, text(response)


def committed_token_user(app: Flask, notes: int, tags: list[str] | None = None) -> tuple[str, list[int]]:
    """Commit alice@example.com with ``notes`` notes (each with ``tags``) and a write token.

    Returns the token's secret and the note ids in creation order. The token
    counts as used just now, so its once-a-minute ``last_used_at`` write
    stays out of what a test counts.
    """
    with app.app_context():
        user = User(email="alice@example.com", password_hash=hash_password(PASSWORD))
        db.session.add(user)
        db.session.commit()
        ids = []
        for i in range(notes):
            note = Note(owner=user, title=f"Note {i}", content=f"text {i}", pinned=i % 7 == 0)
            db.session.add(note)
            if tags:
                assign_tags(note, tags)
            db.session.commit()  # each note sees the tags the previous one created
            ids.append(note.id)
        token, secret = create_token(user, "script")
        token.last_used_at = utcnow()
        db.session.commit()
    return secret, ids


def at_once(
    apps: list[Flask], work: Callable[[int], Any], *, pause_before: Callable[[str], bool]
) -> tuple[dict[int, Any], list[BaseException]]:
    """Run ``work(i)`` for each app in a thread of its own, all of them held just
    before their first statement that ``pause_before`` picks until every one has
    reached it, so the database, not the scheduler, decides who goes first.

    Returns each index's result and any exception raised in the threads (a
    thread cannot fail the test itself). A thread that finished without ever
    reaching the picked statement is reported there too: the race was not
    run, and a test passing then would prove nothing. The statement hook is
    removed again.
    """
    ready = threading.Barrier(len(apps), timeout=15)
    paused: set[int] = set()  # the threads that have been held (once each)

    def hold(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if threading.get_ident() not in paused and pause_before(statement):
            paused.add(threading.get_ident())
            ready.wait()

    results: dict[int, Any] = {}
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = work(index)
            if threading.get_ident() not in paused:
                raise AssertionError(f"thread {index} never ran the statement it was to be held before")
        except BaseException as exc:  # reported to the caller
            errors.append(exc)
            ready.abort()

    engines = []
    for app in apps:
        with app.app_context():
            engines.append(db.engine)
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", hold)
    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(apps))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", hold)
    return results, errors
