"""bench/ceiling_app.py's data floors do the real endpoints' work: same statements, same answer, on a real PostgreSQL.

The bench compares GET /api/v1/notes with /floor, and GET /api/v1/notes?q=
with /floor/search; each comparison means something only while both return
the same bytes for the same token.
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


# "text" is in every note's content (more than a page of results, all ranked
# alike); "quasar" only in the note the test adds.
@pytest.mark.parametrize("word", ["text", "quasar"])
def test_the_search_floor_answers_what_the_api_search_answers(
    floor_and_app: tuple[ModuleType, Flask, str], word: str
) -> None:
    floor, app, secret = floor_and_app
    client = app.test_client()
    added = client.post(
        f"{API}/notes", json={"title": "Far away", "content": "A quasar, and text."}, headers=bearer(secret)
    )
    assert added.status_code == 201
    searched = client.get(f"{API}/notes", query_string={"q": word}, headers=bearer(secret))
    floored = floor.app.test_client().get("/floor/search", query_string={"q": word}, headers=bearer(secret))

    assert searched.status_code == floored.status_code == 200
    items = searched.get_json()["items"]
    assert len(items) == (20 if word == "text" else 1)
    assert all("<mark>" in item["snippet"] for item in items)
    assert all(item["tags"] == ["tag0", "Work"] for item in items if item["title"] != "Far away")
    assert floored.get_json() == searched.get_json()


def test_the_floor_refuses_an_unknown_token(floor_and_app: tuple[ModuleType, Flask, str]) -> None:
    floor, _, _ = floor_and_app
    client = floor.app.test_client()
    assert client.get("/floor", headers=bearer("nt_not-a-token")).status_code == 401
    assert client.get("/floor/search?q=text", headers=bearer("nt_not-a-token")).status_code == 401
