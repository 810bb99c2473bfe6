"""bench/ceiling_app.py's data floors do the real endpoints' work: same statements, same answer, on a real PostgreSQL.

The bench compares GET /api/v1/notes with /floor, GET /api/v1/notes?q=
with /floor/search, and the notes page with the ceiling's /notes/; each
comparison means something only while both return the same bytes for the
same user (the notes page: but for its CSRF tokens).
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tests.helpers.data import PASSWORD
from tests.helpers.e2e import API, committed_token_user
from tests.helpers.web import bearer, csrf_token_from

from app.models import db

pytestmark = pytest.mark.e2e


@pytest.fixture
def floor_and_app(
    committed_app: Callable[[], Flask], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ModuleType, Flask, str]]:
    app = committed_app()
    # The notes page as production renders it: its forms carry CSRF tokens.
    app.config["WTF_CSRF_ENABLED"] = True
    # More than a page, so next_cursor is set; two tags each, for their order.
    secret, _ = committed_token_user(app, notes=25, tags=["Work", "tag0"])
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    # The notes page's floor reads the app's session cookie.
    monkeypatch.setenv("SECRET_KEY", app.secret_key)
    monkeypatch.setenv("SESSION_COOKIE_NAME", app.config["SESSION_COOKIE_NAME"])
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


# Every CSRF token on a page: the meta tag's, the logout form's and each form's hidden field.
_CSRF_VALUE = re.compile(r'(csrf[-_]token"[^>]*?(?:content|value)=")[^"]+')


def _blank_tokens(html: str) -> str:
    return _CSRF_VALUE.sub(r"\1", html)


def _cookie_of(app: Flask, client: FlaskClient) -> dict[str, str]:
    """The Cookie header with ``client``'s login (the Flask session cookie), as a browser would send it."""
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None, "the client is not logged in"
    return {"Cookie": f"{name}={cookie.value}"}


def test_the_page_floor_renders_what_the_notes_page_renders(floor_and_app: tuple[ModuleType, Flask, str]) -> None:
    floor, app, secret = floor_and_app
    client = app.test_client()
    token = csrf_token_from(client, "/auth/login")
    logged_in = client.post(
        "/auth/login", data={"email": "alice@example.com", "password": PASSWORD, "csrf_token": token}
    )
    assert logged_in.status_code == 302
    page = client.get("/notes/")
    # Without a cookie jar of its own, which would replace the Cookie header.
    bare = floor.app.test_client(use_cookies=False)
    floored = bare.get("/notes/", headers=_cookie_of(app, client))

    assert page.status_code == floored.status_code == 200
    html = page.get_data(as_text=True)
    # What the comparison covers: a full page of notes with their tags, the
    # sidebar's counts, the pager, and a CSRF token in every form.
    assert html.count('<li class="note') == 20 and 'rel="next"' in html
    assert '<span class="count">25</span>' in html and html.count('<a class="tag" href="/notes/?tag=Work">') == 20
    assert html.count('name="csrf_token"') == 42 and _blank_tokens(html).count('value=""') >= 42
    assert _blank_tokens(floored.get_data(as_text=True)) == _blank_tokens(html)

    # A note gone from the list (trashed) must be gone from both, or the comparison fails.
    first = re.search(r'href="/notes/(\d+)"', html)
    assert first is not None
    trashed = client.delete(f"{API}/notes/{first.group(1)}", headers={**bearer(secret), "If-Match": "*"})
    assert trashed.status_code == 204
    after = bare.get("/notes/", headers=_cookie_of(app, client)).get_data(as_text=True)
    assert _blank_tokens(after) != _blank_tokens(html)
    assert _blank_tokens(after) == _blank_tokens(client.get("/notes/").get_data(as_text=True))


def test_the_page_floor_refuses_a_request_without_a_login(floor_and_app: tuple[ModuleType, Flask, str]) -> None:
    floor, _, _ = floor_and_app
    assert floor.app.test_client().get("/notes/").status_code == 401


def test_the_floors_connect_as_the_app_does(floor_and_app: tuple[ModuleType, Flask, str]) -> None:
    """Same connection settings, so PostgreSQL plans the floors' statements as it plans the app's
    (a generic plan made one floor slower than the endpoint it is the floor of)."""
    floor, _, _ = floor_and_app
    with floor.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_custom_plan"
