"""Login sessions: what a login records."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.helpers.data import Factory

from app.accounts.sessions import start_session
from app.models import LoginSession, User, db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def alice(app) -> User:
    return Factory().user("alice@example.com")


def test_a_login_records_its_user_agent_and_address_cut_to_their_columns(alice):
    start_session(alice, remember=False, user_agent=FIREFOX, ip="2001:db8::1")
    start_session(alice, remember=False, user_agent="Z" * 1000, ip="9" * 100)
    start_session(alice, remember=False)
    rows = list(db.session.scalars(sa.select(LoginSession).order_by(LoginSession.id)))
    assert [(r.user_agent, r.ip) for r in rows] == [(FIREFOX, "2001:db8::1"), ("Z" * 255, "9" * 45), (None, None)]
