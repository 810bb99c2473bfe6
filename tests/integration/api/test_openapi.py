"""The OpenAPI document is valid 3.1 and describes every API route the app serves."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator
from tests.helpers.api import API

DOC_ENDPOINTS = {"api-docs.openapi_json", "api-docs.openapi_redoc"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def spec(client):  # type: ignore[no-untyped-def]
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1")
    validate(spec, cls=OpenAPIV31SpecValidator)  # raises with the first problem found


def _served_routes(app) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    """OpenAPI path -> methods for every rule under /api/v1 except the docs themselves."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API) or rule.endpoint in DOC_ENDPOINTS:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes.setdefault(path, set()).update(set(rule.methods or ()) - IGNORED_METHODS)
    return routes


def test_lists_every_api_route_and_method_in_the_url_map(app, spec):
    served = _served_routes(app)
    documented = {path: {m.upper() for m in ops if m != "parameters"} for path, ops in spec["paths"].items()}
    assert len(served) >= 6
    assert documented == served


def test_declares_bearer_security(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert {"bearerAuth": []} in spec["security"]


def test_every_operation_is_summarised_and_documents_problem_errors(spec):
    default_error = spec["components"]["responses"]["DEFAULT_ERROR"]
    # As the app sends them (app.http.errors.problem), not flask-smorest's default application/json.
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    assert default_error["content"] == {"application/problem+json": problem}
    assert set(spec["components"]["schemas"]["Problem"]["properties"]) >= {"type", "title", "status", "detail"}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            where = f"{method.upper()} {path}"
            assert op.get("summary"), f"{where} has no summary"
            assert any(code.startswith("2") for code in op["responses"]), f"{where} has no success response"
            assert op["responses"]["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}, where


def test_openapi_needs_no_login(client):
    assert client.get(f"{API}/openapi.json").status_code == 200


def test_docs_page_is_html(client):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "openapi.json" in page and "redoc" in page.lower()


def test_every_operation_documents_its_rate_limit(spec):
    """A 429 with Retry-After and the RateLimit headers, and the headers on each success (app/api/ratelimit.py)."""
    headers = spec["components"]["headers"]
    assert set(headers) >= {"RATE_LIMIT", "RATE_LIMIT_POLICY", "RETRY_AFTER"}
    rate_limited = spec["components"]["responses"]["RATE_LIMITED"]
    assert set(rate_limited["headers"]) == {"Retry-After", "RateLimit", "RateLimit-Policy"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            if operation.get("security") == []:
                # Public (a password reset): no caller, nothing counted, no RateLimit headers;
                # a 429 of its own still says when to retry.
                assert all("RateLimit" not in r.get("headers", {}) for r in responses.values()), (method, path)
                if "429" in responses:
                    assert set(responses["429"]["headers"]) == {"Retry-After"}, (method, path)
                continue
            refused = responses["429"]
            assert refused == {"$ref": "#/components/responses/RATE_LIMITED"} or (
                set(refused["headers"]) == set(rate_limited["headers"])
                and "too many API calls" in refused["description"]
            ), (method, path)
            successes = [status for status in responses if status.startswith("2")]
            assert successes, (method, path)
            for status in successes:
                assert {"RateLimit", "RateLimit-Policy"} <= set(responses[status].get("headers", {})), (
                    method,
                    path,
                    status,
                )
