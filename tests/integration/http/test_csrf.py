"""With CSRF enabled (as in dev and production), every state-changing form
needs its token, and a forged request changes nothing."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tests.helpers.data import PASSWORD, Factory
from tests.helpers.web import csrf_token_from

from app.models import ApiToken, Note, User, db


@pytest.fixture
def alice_client(csrf_app: Flask) -> tuple[FlaskClient, User, Note]:
    factory = Factory()
    alice = factory.user("alice@example.com")
    note = factory.note(alice, title="mine")
    client = csrf_app.test_client()
    token = csrf_token_from(client, "/auth/login")
    response = client.post("/auth/login", data={"email": alice.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return client, alice, note


def test_login_without_token_is_refused(csrf_app):
    Factory().user("alice@example.com")
    client = csrf_app.test_client()
    response = client.post("/auth/login", data={"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/notes/").status_code == 302  # still anonymous


def test_register_without_token_creates_nobody(csrf_app):
    client = csrf_app.test_client()
    response = client.post(
        "/auth/register", data={"email": "eve@example.com", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert response.status_code == 400
    assert db.session.query(User).count() == 0


FORGED = [
    ("/notes/", {"title": "forged", "content": "x"}),
    ("/notes/quick", {"text": "forged"}),
    ("/notes/{id}/edit", {"title": "forged", "content": "x", "version": "1"}),
    ("/notes/{id}/pin", {}),
    ("/notes/{id}/archive", {}),
    ("/notes/{id}/delete", {}),
    ("/account/tokens", {"name": "forged", "scope": "write"}),
    ("/account/password", {"current_password": PASSWORD, "new_password": "x" * 12, "confirm": "x" * 12}),
    ("/account/delete", {"password": PASSWORD}),
    ("/auth/logout", {}),
]


@pytest.mark.parametrize(("pattern", "data"), FORGED, ids=[p for p, _ in FORGED])
def test_forged_post_changes_nothing(alice_client, pattern, data):
    client, alice, note = alice_client
    before = (note.title, note.pinned, note.archived, note.deleted_at, note.version, alice.password_hash)
    response = client.post(pattern.format(id=note.id), data=data)
    assert response.status_code == 400
    db.session.expire_all()
    note = db.session.get(Note, note.id)
    alice = db.session.get(User, alice.id)
    assert note is not None and alice is not None
    assert (note.title, note.pinned, note.archived, note.deleted_at, note.version, alice.password_hash) == before
    assert db.session.query(Note).count() == 1
    assert db.session.query(ApiToken).count() == 0
    assert client.get("/notes/").status_code == 200  # still logged in


def test_real_form_with_token_works(alice_client):
    client, _, _ = alice_client
    token = csrf_token_from(client, "/notes/new")
    response = client.post("/notes/", data={"title": "real", "content": "ok", "csrf_token": token})
    assert response.status_code == 302
    assert db.session.query(Note).filter_by(title="real").count() == 1


def test_logout_with_token_ends_the_session(alice_client):
    client, _, _ = alice_client
    token = csrf_token_from(client, "/notes/")
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/notes/").status_code == 302


def test_every_button_of_a_list_carries_a_token_that_works(alice_client):
    # The list renders one form's hidden field once for all its buttons
    # (app/http/forms.py): each button must still carry it, and it must work.
    client, _, note = alice_client
    page = client.get("/notes/").get_data(as_text=True)
    forms = re.findall(r'<form class="inline" method="post" action="([^"]+)"(.*?)</form>', page, re.S)
    assert len(forms) >= 3  # log out, pin and archive
    tokens = [re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body) for _, body in forms]
    assert all(tokens), "a button's form has no CSRF token"
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert {t.group(1) for t in tokens if t} == {meta.group(1)}
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "an id is used twice on the page"
    pin = next(action for action, _ in forms if action.endswith("/pin"))
    assert client.post(pin, data={"csrf_token": tokens[0].group(1)}).status_code == 302
    db.session.refresh(note)
    assert note.pinned


@pytest.mark.parametrize(
    "page", ["/notes/", "/notes/{id}", "/notes/{id}/edit", "/notes/tags", "/notes/new", "/account/"]
)
def test_pages_with_several_forms_use_each_id_once(alice_client, page):
    # WTForms would give each form's CSRF field id="csrf_token" (app/http/forms.py).
    client, _, note = alice_client
    html = client.get(page.format(id=note.id)).get_data(as_text=True)
    assert 'name="csrf_token"' in html
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert [i for i in set(ids) if ids.count(i) > 1] == []
