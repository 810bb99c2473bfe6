"""Every API error is RFC 9457 problem+json, never an HTML page.

404 for a note, 403, 409, 412 and 428 are checked, with the same
``assert_problem``, next to the behaviour that raises them.
"""

from __future__ import annotations

from tests.helpers.api import API, assert_problem, count

from app.models import Note


def test_malformed_json_is_400(client, headers):
    response = client.post(f"{API}/notes", data='{"title": "x",', content_type="application/json", headers=headers)
    body = assert_problem(response, 400)
    assert "not valid JSON" in body["detail"]
    assert count(Note) == 0


def test_unauthenticated_is_401(client):
    response = client.get(f"{API}/notes")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer realm=notes"


def test_unknown_api_path_is_404(client, headers, subtests):
    for path in ["/nope", "/notes/abc", "/notes/1/nope", "/note", "/trash"]:
        with subtests.test(path=path):
            assert_problem(client.get(API + path, headers=headers), 404)


def test_wrong_method_is_405_with_allow(client, headers, subtests):
    for method, path, allowed in [
        ("put", "/notes/1", {"GET", "PATCH", "DELETE"}),
        ("delete", "/notes", {"GET", "POST"}),
        ("get", "/notes/1/restore", {"POST"}),
        ("get", "/trash/1", {"DELETE"}),
        ("patch", "/tokens/1", {"GET", "DELETE"}),
    ]:
        with subtests.test(method=method, path=path, allowed=allowed):
            response = getattr(client, method)(API + path, headers=headers)
            assert_problem(response, 405)
            listed = {m.strip() for m in response.headers["Allow"].split(",")}
            assert listed - {"HEAD", "OPTIONS"} == allowed


def test_body_over_max_content_length_is_413(app, client, headers):
    limit = app.config["MAX_CONTENT_LENGTH"]
    payload = b'{"title": "big", "content": "' + b"a" * limit + b'"}'
    response = client.post(f"{API}/notes", data=payload, content_type="application/json", headers=headers)
    assert_problem(response, 413)
    assert count(Note) == 0


def test_body_that_is_not_json_is_415(client, headers, subtests):
    for content_type, data in [
        ("text/plain", '{"title": "x"}'),
        ("application/x-www-form-urlencoded", "title=x"),
        ("multipart/form-data; boundary=b", '--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--b--'),
        ("application/xml", "<note><title>x</title></note>"),
    ]:
        with subtests.test(content_type=content_type, data=data):
            response = client.post(f"{API}/notes", data=data, content_type=content_type, headers=headers)
            body = assert_problem(response, 415)
            assert "application/json" in body["detail"]
            assert content_type.split(";")[0] in body["detail"]
            assert count(Note) == 0


def test_merge_patch_json_is_accepted(client, headers, factory, user):
    note = factory.note(user)
    response = client.patch(
        f"{API}/notes/{note.id}",
        data='{"title": "merged"}',
        content_type="application/merge-patch+json",
        headers={**headers, "If-Match": "*"},
    )
    assert response.status_code == 200
    assert response.get_json()["title"] == "merged"


def test_validation_error_is_422_with_field_errors(client, headers):
    body = assert_problem(client.post(f"{API}/notes", json={"title": "", "bogus": 1}, headers=headers), 422)
    assert set(body["errors"]) == {"title", "bogus"}
    assert "errors" in body["detail"]


def test_browser_accept_header_never_gets_html_under_api(client, headers, subtests):
    for method, path, status in [
        ("get", "/nope", 404),
        ("get", "/notes/999", 404),
        ("put", "/notes/1", 405),
        ("get", "/notes?limit=0", 422),
        ("get", "/notes?cursor=bad", 400),
    ]:
        with subtests.test(method=method, path=path, status=status):
            browser = {**headers, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
            assert_problem(getattr(client, method)(API + path, headers=browser), status)


def test_anonymous_browser_gets_problem_json_not_a_login_redirect(client):
    response = client.get(f"{API}/notes", headers={"Accept": "text/html"})
    assert_problem(response, 401)
    assert "Location" not in response.headers
