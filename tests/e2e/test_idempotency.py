"""Two requests with one Idempotency-Key at the same moment, on two connections: one note, never two.

The unique index on (owner, key) decides, as it would between two workers or
two replicas: the record of the key is written in the note's own transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from tests.helpers.data import PASSWORD
from tests.helpers.e2e import API
from tests.helpers.web import bearer

from app.accounts.passwords import hash_password
from app.accounts.tokens import create_token
from app.extensions import db
from app.models import IdempotencyRecord, Note, User, utcnow

pytestmark = pytest.mark.e2e

WRITERS = 2


def _seed(app: Flask) -> str:
    with app.app_context():
        user = User(email="twice@example.com", password_hash=hash_password(PASSWORD))
        db.session.add(user)
        db.session.commit()
        token, secret = create_token(user, "retries")
        token.last_used_at = utcnow()  # so neither request writes it
        db.session.commit()
        return secret


def test_two_requests_with_one_key_at_once_write_one_note(committed_app: Callable[[], Flask]) -> None:
    apps = [committed_app() for _ in range(WRITERS)]
    headers = {**bearer(_seed(apps[0])), "Idempotency-Key": "same-key-at-once"}

    # Both have looked the key up and found nothing before either writes.
    both_looked = threading.Barrier(WRITERS, timeout=15)

    def wait_for_the_other(session: Any, flush_context: Any, instances: Any) -> None:
        if any(isinstance(obj, IdempotencyRecord) for obj in session.new):
            both_looked.wait()

    results: list[tuple[int, Any]] = []
    errors: list[BaseException] = []

    def post(index: int) -> None:
        try:
            response = apps[index].test_client().post(f"{API}/notes", json={"title": "once"}, headers=headers)
            results.append((response.status_code, response.get_json()))
        except BaseException as exc:  # reported below
            errors.append(exc)
            both_looked.abort()

    sa.event.listen(db.session.session_factory.class_, "before_flush", wait_for_the_other)
    try:
        threads = [threading.Thread(target=post, args=(i,)) for i in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        sa.event.remove(db.session.session_factory.class_, "before_flush", wait_for_the_other)

    assert not errors, errors
    statuses = sorted(status for status, _ in results)
    # The second's commit fails on the unique index; it answers with the first's answer.
    assert statuses == [201, 201], results
    created = [body for status, body in results if status == 201]
    assert all(body == created[0] for body in created)
    with apps[0].app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyRecord)) == 1
