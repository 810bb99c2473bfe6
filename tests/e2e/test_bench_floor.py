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
from tests.conftest import PASSWORD, bearer

from app.models import Note, User, db
from app.notes.tags import assign_tags
from app.passwords import hash_password
from app.tokens import create_token

from .helpers import API

pytestmark = pytest.mark.e2e


@pytest.fixture
def floor_and_app(
    committed_app: Callable[[], Flask], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ModuleType, Flask, str]]:
    app = committed_app()
    with app.app_context():
        user = User(email="alice@example.com", password_hash=hash_password(PASSWORD))
        db.session.add(user)
        db.session.commit()
        for i in range(25):  # more than a page, so next_cursor is set
            note = Note(owner=user, title=f"Note {i}", content=f"text {i}", pinned=i % 7 == 0)
            db.session.add(note)
            assign_tags(note, [f"tag{i % 3}", "Work"])
            db.session.commit()  # each note sees the tags the previous one created
        _, secret = create_token(user, "bench")
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
