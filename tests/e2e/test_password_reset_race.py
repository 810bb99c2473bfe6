"""Password reset links used at the same moment on PostgreSQL: the database lets one through.

Both requests have checked their link before either writes, so only the
conditional UPDATEs in app/accounts/resets.py::reset_password decide.
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

from app.accounts.passwords import hash_password, verify_password
from app.accounts.resets import create_reset
from app.models import PasswordReset, User, db

pytestmark = pytest.mark.e2e


def _seed(app: Flask) -> tuple[str, str]:
    with app.app_context():
        user = User(email="race@example.com", password_hash=hash_password(PASSWORD))
        db.session.add(user)
        db.session.commit()
        first, second = create_reset(user), create_reset(user)
        db.session.commit()
        return first, second


@pytest.mark.parametrize("same_link", [True, False], ids=["one link twice", "two links at once"])
def test_only_one_of_two_simultaneous_resets_succeeds(committed_app: Callable[[], Flask], same_link: bool) -> None:
    apps = [committed_app() for _ in range(2)]
    first, second = _seed(apps[0])
    secrets = [first, first if same_link else second]
    both_checked = threading.Barrier(2, timeout=15)

    def before_claim(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE PASSWORD_RESETS"):
            both_checked.wait()

    results: dict[int, int] = {}
    errors: list[BaseException] = []

    def use(index: int) -> None:
        try:
            response = (
                apps[index]
                .test_client()
                .post(f"{API}/password-resets/{secrets[index]}", json={"password": f"winner number {index}"})
            )
            results[index] = response.status_code
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
            both_checked.abort()

    engines = []
    for app in apps:
        with app.app_context():
            engines.append(db.engine)
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", before_claim)
    try:
        threads = [threading.Thread(target=use, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", before_claim)

    assert not errors, errors
    assert sorted(results.values()) == [204, 404], results
    winner = next(i for i, status in results.items() if status == 204)
    with apps[0].app_context():
        user = db.session.scalar(sa.select(User))
        assert verify_password(user.password_hash, f"winner number {winner}")
        used = db.session.scalars(sa.select(PasswordReset.used_at)).all()
        assert sum(at is not None for at in used) == 1
