"""The tier's own guarantee: what a test commits stays inside its transaction."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.helpers.data import Factory
from tests.helpers.e2e import count

from app.models import User, db

pytestmark = pytest.mark.e2e


def test_a_commit_in_a_test_is_invisible_to_other_connections(app, factory: Factory) -> None:
    factory.user("isolated@example.com")  # commits through db.session
    assert count(User, User.email == "isolated@example.com") == 1

    with db.engine.connect() as other:
        seen = other.scalar(sa.text("SELECT count(*) FROM users WHERE email = 'isolated@example.com'"))
    # Had the ORM used a pooled connection instead of the test's, the commit
    # would be real and visible here (and leak into every later test).
    assert seen == 0


def test_a_view_commit_is_invisible_to_other_connections(app, client) -> None:
    response = client.post(
        "/auth/register", data={"email": "viewer@example.com", "password": "p" * 12, "confirm": "p" * 12}
    )
    assert response.status_code == 302
    assert count(User, User.email == "viewer@example.com") == 1
    with db.engine.connect() as other:
        assert other.scalar(sa.text("SELECT count(*) FROM users WHERE email = 'viewer@example.com'")) == 0
