"""Fixtures of the administration pages' tests: an administrator (boss), the
``client`` logged in as boss from a known address, and bob, a user to act on."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from tests.helpers.admin import make_admin
from tests.helpers.data import Factory
from tests.helpers.web import AuthActions

from app.models import User

# The address boss's requests come from: the audit log must record this one.
BOSS_IP = "198.51.100.7"


@pytest.fixture
def boss(factory: Factory) -> User:
    return make_admin(factory.user("boss@example.com"))


@pytest.fixture
def as_boss(client: FlaskClient, auth: AuthActions, boss: User) -> User:
    """``client`` logged in as boss, its requests coming from BOSS_IP."""
    client.environ_base["REMOTE_ADDR"] = BOSS_IP
    response = auth.login("boss@example.com")
    assert response.status_code == 302, response.get_data(as_text=True)
    return boss


@pytest.fixture
def bob(factory: Factory) -> User:
    return factory.user("bob@example.com")
