"""What schemathesis found: places where the API and its OpenAPI document disagreed.

Each test pins one fix, so it would fail if either side drifted back.
"""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator
from tests.helpers.api import API, assert_problem, count, with_password

from app.models import Note

BLANK_OR_NUL = ["", " ", "\t\n", "\x1f", "\u3000", "a\x00", "\x00"]
FINE = ["a", " a ", "\ufeff", "日本", "x" * 60]


@pytest.fixture
def spec(client):  # type: ignore[no-untyped-def]
    return client.get(f"{API}/openapi.json").get_json()


@pytest.mark.parametrize("value", [0, 1, "true", "yes", None])
def test_note_booleans_must_be_json_booleans(client, headers, value):
    response = client.post(f"{API}/notes", json={"title": "t", "archived": value}, headers=headers)
    body = assert_problem(response, 422)
    assert "archived" in body["errors"]
    assert count(Note) == 0


@pytest.mark.parametrize(("value", "status"), [("30", 422), (True, 422), (30.5, 422), (30.0, 201), (30, 201)])
def test_token_expiry_must_be_a_json_integer(client, logged_in, value, status):
    response = client.post(f"{API}/tokens", json=with_password({"name": "ci", "expires_in_days": value}))
    assert response.status_code == status, response.get_data(as_text=True)


def test_title_and_token_name_patterns_agree_with_the_validators(client, headers, logged_in, spec):
    schemas = spec["components"]["schemas"]
    for schema, field, path in [("NoteCreate", "title", "notes"), ("TokenCreate", "name", "tokens")]:
        pattern = re.compile(schemas[schema]["properties"][field]["pattern"])
        for value in BLANK_OR_NUL + FINE:
            # Tokens are created from alice's session with her password; notes with her token.
            kwargs = (
                {"json": with_password({field: value})}
                if path == "tokens"
                else {"json": {field: value}, "headers": headers}
            )
            accepted = client.post(f"{API}/{path}", **kwargs).status_code == 201
            assert accepted == bool(pattern.search(value)), (schema, value)


@pytest.mark.parametrize(("schema", "method"), [("NoteCreate", "post"), ("NoteUpdate", "patch")])
def test_content_rule_refuses_nul_only(client, headers, factory, user, spec, schema, method):
    documented = Draft202012Validator(spec["components"]["schemas"][schema]["properties"]["content"])
    for value in ["", " text \n", "日本 \u3000", "a\x00b", "\x00"]:
        if method == "post":
            response = client.post(f"{API}/notes", json={"title": "t", "content": value}, headers=headers)
        else:
            note = factory.note(user)
            if_match = {**headers, "If-Match": "*"}
            response = client.patch(f"{API}/notes/{note.id}", json={"content": value}, headers=if_match)
        accepted = response.status_code in (200, 201)
        assert accepted == documented.is_valid(value) == ("\x00" not in value), (schema, repr(value))


def test_an_empty_patch_is_documented_as_invalid(client, headers, factory, user, spec):
    assert spec["components"]["schemas"]["NoteUpdate"]["minProperties"] == 1
    note = factory.note(user)
    response = client.patch(f"{API}/notes/{note.id}", json={}, headers={**headers, "If-Match": "*"})
    assert_problem(response, 422)


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/notes", "get", {"400"}),
        ("/notes/{note_id}", "get", {"304", "404"}),
        ("/notes/{note_id}", "patch", {"404", "412", "428"}),
        ("/notes/{note_id}", "delete", {"404", "412"}),
        ("/notes/{note_id}/restore", "post", {"404", "409", "412"}),
        ("/trash/{note_id}", "delete", {"404", "409", "412"}),
        ("/tokens/{token_id}", "get", {"404"}),
        ("/tokens/{token_id}", "delete", {"404"}),
    ],
)
def test_specific_errors_are_documented_as_problems(spec, path, method, statuses):
    responses = spec["paths"][API + path][method]["responses"]
    assert statuses <= set(responses)
    for status in statuses - {"304"}:
        assert list(responses[status]["content"]) == ["application/problem+json"], status


def test_conditional_headers_are_documented(spec):
    def header_names(path: str, method: str) -> set[str]:
        return {p["name"] for p in spec["paths"][API + path][method].get("parameters", []) if p["in"] == "header"}

    assert header_names("/notes/{note_id}", "get") == {"If-None-Match"}
    for path, method in [
        ("/notes/{note_id}", "delete"),
        ("/notes/{note_id}/restore", "post"),
        ("/trash/{note_id}", "delete"),
    ]:
        assert header_names(path, method) == {"If-Match"}, (path, method)


def test_created_resources_link_to_their_operations(client, headers, spec):
    links = spec["paths"][f"{API}/notes"]["post"]["responses"]["201"]["links"]
    assert links["UpdateNote"]["parameters"] == {
        "note_id": "$response.body#/id",
        "header.If-Match": "$response.header.ETag",
    }
    for link in links.values():
        ref = link["operationRef"].removeprefix("#/paths/").replace("~1", "/").replace("~0", "~")
        path, _, method = ref.rpartition("/")
        assert method in spec["paths"][path], ref
    token_links = spec["paths"][f"{API}/tokens"]["post"]["responses"]["201"]["links"]
    assert {link["parameters"]["token_id"] for link in token_links.values()} == {"$response.body#/id"}
