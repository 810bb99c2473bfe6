"""Who may call the API: Bearer tokens, the session cookie, and CSRF for cookies."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tests.helpers.api import API, assert_problem, count, fresh_note
from tests.helpers.data import PASSWORD, Factory
from tests.helpers.web import bearer, csrf_token_from

from app.models import Note

# Every API route that needs a caller; ids need not exist, auth comes first.
PROTECTED = [
    ("get", "/notes"),
    ("post", "/notes"),
    ("get", "/notes/1"),
    ("patch", "/notes/1"),
    ("delete", "/notes/1"),
    ("post", "/notes/1/restore"),
    ("delete", "/trash/1"),
    ("get", "/tokens"),
    ("post", "/tokens"),
    ("get", "/tokens/1"),
    ("delete", "/tokens/1"),
]


def test_no_credentials_is_401_with_bearer_challenge(client, factory, user, subtests):
    factory.note(user)
    for method, path in PROTECTED:
        with subtests.test(method=method, path=path):
            response = getattr(client, method)(API + path, json={"title": "x", "name": "x"}, headers={"If-Match": "*"})
            body = assert_problem(response, 401)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert "Bearer" in body["detail"]
            note = fresh_note(1)
            assert note is not None and note.version == 1 and note.deleted_at is None
            assert count(Note) == 1


def test_malformed_or_unknown_authorization_is_401(client, subtests):
    for authorization in [
        "Basic YWxpY2U6cGFzcw==",
        "Bearer",
        "Bearer    ",
        "Token nt_abc",
        "nt_abc",
        "Bearer nt_unknown",
        "Bearer abc",
    ]:
        with subtests.test(authorization=authorization):
            response = client.get(f"{API}/notes", headers={"Authorization": authorization})
            assert_problem(response, 401)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_bearer_scheme_is_case_insensitive(client, alice_secret):
    assert client.get(f"{API}/notes", headers={"Authorization": f"bearer {alice_secret}"}).status_code == 200


def test_a_bad_token_is_refused_even_with_a_valid_session(client, logged_in):
    assert client.get(f"{API}/notes").status_code == 200
    assert_problem(client.get(f"{API}/notes", headers=bearer("nt_wrong")), 401)


def test_session_cookie_authenticates_reads_and_writes(client, logged_in, factory):
    factory.note(logged_in, title="Via cookie")
    assert [n["title"] for n in client.get(f"{API}/notes").get_json()["items"]] == ["Via cookie"]
    assert client.post(f"{API}/notes", json={"title": "Posted"}).status_code == 201  # CSRF is off here


def test_logging_out_ends_cookie_access(client, logged_in, auth):
    auth.logout()
    assert_problem(client.get(f"{API}/notes"), 401)


# --- CSRF on cookie-authenticated calls ----------------------------------------------


@pytest.fixture
def cookie_client(csrf_app: Flask) -> tuple[FlaskClient, str]:
    """A client logged in as alice through the CSRF-protected form, and its CSRF token."""
    Factory().user("alice@example.com")
    client = csrf_app.test_client()
    response = client.post(
        "/auth/login",
        data={"email": "alice@example.com", "password": PASSWORD, "csrf_token": csrf_token_from(client, "/auth/login")},
    )
    assert response.status_code == 302
    return client, csrf_token_from(client, "/notes/")


def test_cookie_get_needs_no_csrf_token(cookie_client):
    client, _ = cookie_client
    assert client.get(f"{API}/notes").status_code == 200


def test_cookie_post_without_a_valid_csrf_token_is_400_and_creates_nothing(cookie_client, subtests):
    for header in [None, "not-the-token"]:
        with subtests.test(header=header):
            client, _ = cookie_client
            headers = {"X-CSRFToken": header} if header else {}
            body = assert_problem(client.post(f"{API}/notes", json={"title": "Forged"}, headers=headers), 400)
            assert "CSRF" in body["detail"]
            assert count(Note) == 0


def test_cookie_post_with_the_csrf_token_from_the_page_is_201(cookie_client):
    client, token = cookie_client
    response = client.post(f"{API}/notes", json={"title": "Legit"}, headers={"X-CSRFToken": token})
    assert response.status_code == 201
    assert count(Note) == 1


def test_cookie_writes_to_a_note_need_the_csrf_token(cookie_client, subtests):
    for method, path in [("patch", "/notes/{id}"), ("delete", "/notes/{id}")]:
        with subtests.test(method=method, path=path):
            client, token = cookie_client
            created = client.post(f"{API}/notes", json={"title": "Mine"}, headers={"X-CSRFToken": token}).get_json()
            url = API + path.format(id=created["id"])

            assert_problem(getattr(client, method)(url, json={"title": "Forged"}, headers={"If-Match": "*"}), 400)
            note = fresh_note(created["id"])
            assert note is not None and (note.title, note.version, note.deleted_at) == ("Mine", 1, None)

            ok = getattr(client, method)(url, json={"title": "Legit"}, headers={"If-Match": "*", "X-CSRFToken": token})
            assert ok.status_code in (200, 204)


def test_bearer_calls_need_no_csrf_token_even_with_csrf_enabled(csrf_app):
    factory = Factory()
    _, secret = factory.token(factory.user("bob@example.com"))
    client = csrf_app.test_client()
    response = client.post(f"{API}/notes", json={"title": "Scripted"}, headers=bearer(secret))
    assert response.status_code == 201
    assert count(Note) == 1


def test_the_account_of_a_token_call_is_loaded_when_a_view_needs_it(app, factory, user):
    from flask import g

    from app.api.auth import Caller, api_user

    with app.test_request_context("/api/v1/export"):
        g.api_owner, g.api_user = Caller(user.id), None
        assert api_user() is user
        assert g.api_user is user  # loaded once per request


def test_a_token_call_whose_account_is_gone_is_401(app):
    from flask import g
    from werkzeug.exceptions import Unauthorized

    from app.api.auth import Caller, api_user
    from app.db.types import MAX_ID

    with app.test_request_context("/api/v1/export"):
        g.api_owner, g.api_user = Caller(MAX_ID), None
        with pytest.raises(Unauthorized) as raised:
            api_user()
    assert "no longer exists" in raised.value.description
    assert [challenge.type for challenge in raised.value.www_authenticate] == ["bearer"]
