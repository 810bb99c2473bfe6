"""Error pages for browsers, problem+json for clients that ask for JSON;
never a traceback or an exception's text."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from app.models import User, db


def test_unknown_path_is_an_html_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert b"404 \xc2\xb7 Not Found" in response.data
    assert b"Nothing here: the page or note does not exist, or is not yours." in response.data
    assert b"Traceback" not in response.data


def test_json_client_gets_problem_json_for_a_page_404(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 404
    assert body["title"] == "Not Found"
    assert body["type"] == "about:blank"
    assert body["detail"]


def test_browser_accept_header_gets_html(client):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get("/no/such/page", headers={"Accept": accept}).mimetype == "text/html"


def test_method_not_allowed_page_names_the_allowed_methods(client):
    response = client.put("/auth/login")
    assert response.status_code == 405
    assert response.mimetype == "text/html"
    assert "POST" in response.headers["Allow"]


def test_too_large_body_is_refused_with_413(client, logged_in):
    response = client.post("/notes/", data={"title": "big", "content": "x" * (1024 * 1024 + 1)})
    assert response.status_code == 413
    assert b"The request body is too large." in response.data


def test_unhandled_exception_is_a_generic_500_and_rolls_back(fresh_app, caplog):
    app, client = fresh_app, fresh_app.test_client()
    # As in production: exceptions become a 500 page instead of reaching the test.
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def explode():
        db.session.add(User(email="ghost@example.com", password_hash="x"))
        db.session.flush()
        raise RuntimeError("secret internals: db password is hunter2")

    app.add_url_rule("/boom", "boom", explode)
    with caplog.at_level(logging.ERROR, logger="notes.errors"):
        response = client.get("/boom")

    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert b"Something went wrong on our side." in response.data
    assert b"hunter2" not in response.data and b"Traceback" not in response.data
    assert b"RuntimeError" not in response.data
    # The half-done write went nowhere, and the session still works.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    # The details are in the log instead, for the operator.
    [record] = [r for r in caplog.records if r.name == "notes.errors"]
    assert record.exc_info and "hunter2" in str(record.exc_info[1])


def test_unhandled_exception_for_a_json_client_is_problem_json(fresh_app):
    app, client = fresh_app, fresh_app.test_client()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def explode():
        raise RuntimeError("secret internals")

    app.add_url_rule("/boom", "boom", explode)
    response = client.get("/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == "Something went wrong on our side. It has been logged; please try again."
    assert b"secret internals" not in response.data
