"""Password reset links used at the same moment on PostgreSQL: the database lets one through.

Both requests have checked their link before either writes, so only the
conditional UPDATEs in app/accounts/resets.py::reset_password decide.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from tests.helpers.data import PASSWORD
from tests.helpers.e2e import API, assert_problem, at_once
from werkzeug.test import TestResponse

from app.accounts.passwords import hash_password, verify_password
from app.accounts.resets import create_reset
from app.models import AuditEvent, PasswordReset, User, db

pytestmark = pytest.mark.e2e


def _seed(app: Flask) -> dict[str, int]:
    """Commit race@example.com with two reset links; each link's secret and row id."""
    with app.app_context():
        user = User(email="race@example.com", password_hash=hash_password(PASSWORD))
        db.session.add(user)
        db.session.commit()
        first, second = create_reset(user), create_reset(user)
        db.session.commit()
        ids = db.session.scalars(sa.select(PasswordReset.id).order_by(PasswordReset.id)).all()
        return dict(zip([first, second], ids, strict=True))


def _claims_a_link(statement: str) -> bool:
    return statement.lstrip().upper().startswith("UPDATE PASSWORD_RESETS")


@pytest.mark.parametrize("same_link", [True, False], ids=["one link twice", "two links at once"])
def test_only_one_of_two_simultaneous_resets_succeeds(committed_app: Callable[[], Flask], same_link: bool) -> None:
    apps = [committed_app() for _ in range(2)]
    links = _seed(apps[0])
    first, second = links
    secrets = [first, first if same_link else second]

    def use(index: int) -> TestResponse:
        body = {"password": f"winner number {index}"}
        return apps[index].test_client().post(f"{API}/password-resets/{secrets[index]}", json=body)

    # Both have found their link usable; they claim it at the same moment.
    responses, errors = at_once(apps, use, pause_before=_claims_a_link)
    assert not errors, errors
    statuses = {index: response.status_code for index, response in responses.items()}
    assert sorted(statuses.values()) == [204, 404], statuses
    winner = next(i for i, status in statuses.items() if status == 204)
    assert_problem(responses[1 - winner], 404)
    with apps[0].app_context():
        user = db.session.scalar(sa.select(User))
        assert verify_password(user.password_hash, f"winner number {winner}")
        used = db.session.execute(sa.select(PasswordReset.id, PasswordReset.used_at)).all()
        assert sum(at is not None for _, at in used) == 1
        # The link used up is the winner's: the loser's claim of its own link was rolled back.
        assert [row_id for row_id, at in used if at is not None] == [links[secrets[winner]]]
        resets = db.session.scalars(sa.select(AuditEvent.detail).where(AuditEvent.action == "password_reset")).all()
        assert len(resets) == 1, resets
