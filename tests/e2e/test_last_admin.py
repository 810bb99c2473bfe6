"""Two administrators taking each other's role at the same moment on PostgreSQL:
one wins, the other is refused, and an administrator is left."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from tests.helpers.data import PASSWORD

from app.accounts import admin
from app.accounts.passwords import hash_password
from app.domain import RuleConflict
from app.models import User, db

pytestmark = pytest.mark.e2e


def test_two_administrators_demoting_each_other_at_once_leave_one(committed_app: Callable[[], Flask]) -> None:
    apps = [committed_app(), committed_app()]
    with apps[0].app_context():
        one = User(email="one@example.com", password_hash=hash_password(PASSWORD), is_admin=True)
        two = User(email="two@example.com", password_hash=hash_password(PASSWORD), is_admin=True)
        db.session.add_all([one, two])
        db.session.commit()
        ids = [one.id, two.id]

    # Both go to count the administrators at the same moment: without a lock,
    # each would see two and both would go.
    both_ready = threading.Barrier(2, timeout=15)

    def before_lock(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().startswith("SELECT") and "users.is_admin" in statement and "disabled_at" in statement:
            both_ready.wait()

    outcomes: dict[int, str] = {}
    errors: list[BaseException] = []

    def demote(index: int) -> None:
        try:
            with apps[index].app_context():
                target = db.session.get(User, ids[index])
                actor = db.session.get(User, ids[1 - index])
                try:
                    admin.set_admin(target, False, actor=actor)
                    outcomes[index] = "demoted"
                except RuleConflict:
                    db.session.rollback()
                    outcomes[index] = "refused"
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
            both_ready.abort()

    engines = []
    for app in apps:
        with app.app_context():
            engines.append(db.engine)
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", before_lock)
    try:
        threads = [threading.Thread(target=demote, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", before_lock)

    assert not errors, errors
    assert sorted(outcomes.values()) == ["demoted", "refused"], outcomes
    with apps[0].app_context():
        admins = db.session.scalars(sa.select(User.email).where(User.is_admin)).all()
    assert len(admins) == 1
