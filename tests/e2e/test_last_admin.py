"""Two administrators taking each other's role at the same moment on PostgreSQL:
one wins, the other is refused, and an administrator is left."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from tests.helpers.data import PASSWORD
from tests.helpers.e2e import at_once

from app.accounts import admin
from app.accounts.passwords import hash_password
from app.domain import RuleConflict
from app.models import User, db

pytestmark = pytest.mark.e2e


def _counts_administrators(statement: str) -> bool:
    return statement.lstrip().startswith("SELECT") and "users.is_admin" in statement and "disabled_at" in statement


def test_two_administrators_demoting_each_other_at_once_leave_one(committed_app: Callable[[], Flask]) -> None:
    apps = [committed_app(), committed_app()]
    with apps[0].app_context():
        one = User(email="one@example.com", password_hash=hash_password(PASSWORD), is_admin=True)
        two = User(email="two@example.com", password_hash=hash_password(PASSWORD), is_admin=True)
        db.session.add_all([one, two])
        db.session.commit()
        ids = [one.id, two.id]

    def demote(index: int) -> str:
        with apps[index].app_context():
            target = db.session.get(User, ids[index])
            actor = db.session.get(User, ids[1 - index])
            try:
                admin.set_admin(target, False, actor=actor)
            except RuleConflict:
                db.session.rollback()
                return "refused"
            return "demoted"

    # Both count the administrators at the same moment: without a lock, each
    # would see two and both would go.
    outcomes, errors = at_once(apps, demote, pause_before=_counts_administrators)
    assert not errors, errors
    assert sorted(outcomes.values()) == ["demoted", "refused"], outcomes
    with apps[0].app_context():
        admins = db.session.scalars(sa.select(User.email).where(User.is_admin)).all()
    assert len(admins) == 1
