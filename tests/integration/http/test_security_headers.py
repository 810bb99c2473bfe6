"""Security headers the app sets itself, so they hold without nginx too."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

PAGES = ["/auth/login", "/auth/register", "/notes/", "/no/such/page", "/healthz", "/api/v1/notes"]


def _csp(response) -> dict[str, list[str]]:
    """The Content-Security-Policy as {directive: [sources]}."""
    policy: dict[str, list[str]] = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        assert name not in policy, f"{name} appears twice"
        policy[name] = sources
    return policy


@pytest.mark.parametrize("path", PAGES)
def test_every_response_has_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert response.headers.getlist("Content-Security-Policy") == [response.headers["Content-Security-Policy"]]


@pytest.mark.parametrize("path", PAGES)
def test_pages_get_the_strict_csp(client, path):
    csp = _csp(client.get(path))
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]


def test_logged_in_pages_have_the_strict_csp(client, logged_in, factory):
    note = factory.note(logged_in)
    for path in ("/notes/", f"/notes/{note.id}", f"/notes/{note.id}/edit", "/account/"):
        csp = _csp(client.get(path))
        assert "'unsafe-inline'" not in csp["script-src"] + csp["style-src"], path


class _Inline(HTMLParser):
    """Counts what a strict CSP would block: inline scripts, styles and handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts = 0
        self.script_srcs: list[str] = []
        self.style_tags = 0
        self.handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.handlers += [name for name in attributes if name.startswith("on")]
        if tag == "script":
            if attributes.get("src"):
                self.script_srcs.append(attributes["src"] or "")
            else:
                self.inline_scripts += 1
        if tag == "style" or "style" in attributes:
            self.style_tags += 1


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register", "/notes/", "/notes/new", "/account/"])
def test_app_pages_need_nothing_the_strict_csp_blocks(client, logged_in, path):
    if path.startswith("/auth/"):
        client.post("/auth/logout")
    parser = _Inline()
    parser.feed(client.get(path).get_data(as_text=True))
    assert parser.inline_scripts == 0
    assert parser.style_tags == 0
    assert parser.handlers == []
    assert all(src.startswith("/static/") for src in parser.script_srcs)


def test_api_docs_get_the_docs_csp(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    csp = _csp(response)
    # ReDoc needs inline styles and a blob: worker; scripts stay locked down.
    assert "'unsafe-inline'" in csp["style-src"]
    assert csp["worker-src"] == ["'self'", "blob:"]
    assert csp["script-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]


def test_api_docs_load_redoc_from_this_site_only(client):
    parser = _Inline()
    parser.feed(client.get("/api/v1/docs").get_data(as_text=True))
    assert parser.inline_scripts == 0
    assert parser.script_srcs and all(src.startswith("/static/") for src in parser.script_srcs)
    assert client.get(parser.script_srcs[0]).status_code == 200


def test_only_the_docs_page_gets_the_looser_policy(client):
    assert "'unsafe-inline'" not in client.get("/api/v1/openapi.json").headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in client.get("/api/v1/notes").headers["Content-Security-Policy"]


def test_session_cookie_is_httponly_and_samesite(client, auth, user):
    response = auth.login()
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
