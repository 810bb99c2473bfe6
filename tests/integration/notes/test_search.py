"""Search on SQLite (FTS5); tests/e2e/test_search.py runs the same cases on Postgres."""

from tests.helpers.search_cases import *  # noqa: F403
