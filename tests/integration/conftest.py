"""Tier 2 fixtures: alice's API token, for tests of the JSON API in every domain.

Everything runs through ``app.test_client()`` on the in-memory SQLite
database the root conftest lends each test.
"""

from __future__ import annotations

import pytest
from tests.helpers.data import Factory
from tests.helpers.web import bearer

from app.models import User


@pytest.fixture
def alice_secret(factory: Factory, user: User) -> str:
    """The secret of a write-scope token belonging to alice."""
    _, secret = factory.token(user, name="alice cli")
    return secret


@pytest.fixture
def headers(alice_secret: str) -> dict[str, str]:
    """Authorization headers acting as alice."""
    return bearer(alice_secret)
