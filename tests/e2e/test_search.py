"""Search on Postgres (tsvector, GIN); the same cases as tier 2 on SQLite."""

import pytest
from tests.helpers.search_cases import *  # noqa: F403

pytestmark = pytest.mark.e2e
