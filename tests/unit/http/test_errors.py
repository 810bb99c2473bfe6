"""Error helpers: RFC 9457 problem responses and the JSON-or-HTML choice."""

from __future__ import annotations

import pytest
from flask import abort

from app import create_app
from app.http.errors import PROBLEM_JSON, _field_errors, problem, wants_json


@pytest.fixture(scope="module")
def bare_app():
    """No database: these helpers only need a request context."""
    return create_app({"TESTING": True})


def test_problem_shape_and_media_type(bare_app):
    with bare_app.test_request_context("/api/v1/notes"):
        response = problem(404, "No such note.")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json" == PROBLEM_JSON
    assert response.get_json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No such note.",
    }


def test_problem_with_title_errors_and_headers(bare_app):
    with bare_app.test_request_context("/api/v1/notes"):
        response = problem(
            422,
            "Some fields are invalid.",
            title="Invalid note",
            errors={"title": ["Missing data for required field."]},
            headers={"Retry-After": "5"},
        )
    body = response.get_json()
    assert body["title"] == "Invalid note"
    assert body["status"] == 422
    assert body["errors"] == {"title": ["Missing data for required field."]}
    assert response.headers["Retry-After"] == "5"


def test_problem_leaves_out_empty_errors_and_names_unknown_statuses(bare_app):
    with bare_app.test_request_context("/api/v1/notes"):
        body = problem(599, "odd", errors={}).get_json()
    assert "errors" not in body
    assert body["title"] == "Error"


@pytest.mark.parametrize("path", ["/api/v1/notes", "/api/v1/notes/1", "/healthz", "/readyz"])
def test_wants_json_for_api_and_health_paths_even_from_browsers(bare_app, path):
    with bare_app.test_request_context(path, headers={"Accept": "text/html"}):
        assert wants_json() is True


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, False),
        ("*/*", False),
        ("text/html", False),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("application/json", True),
        ("application/json, text/html;q=0.5", True),
        ("text/html, application/json", False),
        ("application/json;q=0.5, text/html;q=0.9", False),
        ("application/json;q=0.8, */*;q=0.1", True),
    ],
)
def test_wants_json_by_accept_header_elsewhere(bare_app, accept, expected):
    headers = {"Accept": accept} if accept is not None else {}
    with bare_app.test_request_context("/notes/", headers=headers):
        assert wants_json() is expected


def test_api_lookalike_path_is_not_api(bare_app):
    with bare_app.test_request_context("/apinotes", headers={"Accept": "text/html"}):
        assert wants_json() is False


def test_field_errors_are_flattened_per_location():
    data = {"messages": {"json": {"title": ["Too long."]}, "query": {"limit": ["Must be 1..100."]}}}
    assert _field_errors(data) == {"title": ["Too long."], "limit": ["Must be 1..100."]}
    assert _field_errors({"messages": {"json": ["Invalid input type."]}}) == {"json": ["Invalid input type."]}
    assert _field_errors({}) is None


@pytest.fixture
def raising_app(fresh_app):
    app = fresh_app

    @app.get("/api/v1/_boom/<int:code>")
    @app.get("/_boom/<int:code>")
    def boom(code):
        if code == 500:
            raise RuntimeError("secret internals")
        abort(code, "Custom detail.")

    return app


def test_handler_sends_problem_json_for_api_paths(raising_app):
    response = raising_app.test_client().get("/api/v1/_boom/409")
    assert response.status_code == 409
    assert response.mimetype == PROBLEM_JSON
    assert response.get_json()["detail"] == "Custom detail."


def test_handler_sends_html_for_browsers(raising_app):
    response = raising_app.test_client().get("/_boom/403", headers={"Accept": "text/html"})
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert b"Custom detail." in response.data


def test_unhandled_exception_never_leaks_details(raising_app):
    raising_app.config["PROPAGATE_EXCEPTIONS"] = False
    response = raising_app.test_client().get("/api/v1/_boom/500")
    assert response.status_code == 500
    assert response.mimetype == PROBLEM_JSON
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert response.get_json()["detail"].startswith("Something went wrong on our side")
