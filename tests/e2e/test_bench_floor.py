"""bench/ceiling_app.py's data floor does api_list's work: same statements, same answer, on a real PostgreSQL.

The bench compares GET /api/v1/notes with /floor; the comparison means
something only while both return the same bytes for the same token.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest
from flask import Flask
from tests.helpers.e2e import API, committed_token_user
from tests.helpers.web import bearer

from app.models import db

pytestmark = pytest.mark.e2e


@pytest.fixture
def floor_and_app(
    committed_app: Callable[[], Flask], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ModuleType, Flask, str]]:
    app = committed_app()
    # More than a page, so next_cursor is set; two tags each, for their order.
    secret, _ = committed_token_user(app, notes=25, tags=["Work", "tag0"])
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delitem(sys.modules, "bench.ceiling_app", raising=False)
    module = importlib.import_module("bench.ceiling_app")
    try:
        yield module, app, secret
    finally:
        module.engine.dispose()
        sys.modules.pop("bench.ceiling_app", None)


def test_the_floor_answers_what_the_api_list_answers(floor_and_app: tuple[ModuleType, Flask, str]) -> None:
    floor, app, secret = floor_and_app
    listed = app.test_client().get(f"{API}/notes", headers=bearer(secret))
    floored = floor.app.test_client().get("/floor", headers=bearer(secret))

    assert listed.status_code == floored.status_code == 200
    assert len(listed.get_json()["items"]) == 20 and listed.get_json()["next_cursor"]
    assert floored.get_json() == listed.get_json()


def test_the_floor_refuses_an_unknown_token(floor_and_app: tuple[ModuleType, Flask, str]) -> None:
    floor, _, _ = floor_and_app
    assert floor.app.test_client().get("/floor", headers=bearer("nt_not-a-token")).status_code == 401
