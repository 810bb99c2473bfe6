"""Notes under a path (URL_PREFIX, app/http/prefix.py): every URL the app hands a browser or
an API client, and every cookie, follows the prefix; at the root nothing changes.

The prefix here is /apps/notes rather than the /notes of the docs: the notes
list is itself at /notes/, and a link that forgot the prefix must not pass
by looking like one that kept it. The test client sends the whole path, as
a browser does to gunicorn or through nginx (SCRIPT_NAME empty).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from tests.helpers.app import make_app
from tests.helpers.data import PASSWORD, Factory
from tests.helpers.shared_app import as_new, built_once
from tests.helpers.web import bearer

from app import create_app
from app.config import ProdConfig
from app.models import Note, User, db
from app.notes.service import update_note

PREFIX = "/apps/notes"
BASE = "http://localhost" + PREFIX

# An attribute whose value is a path on this host: href="/...", src, action,
# hx-get/hx-post, data-*-url, a hidden "next" field's value...
_PATH_ATTRIBUTE = re.compile(r"""\s([a-zA-Z][\w:.-]*)\s*=\s*(["'])(/[^"']*)\2""")
# Not URLs, though they start with "/".
_NOT_URLS = {"aria-keyshortcuts"}
_ABSOLUTE = re.compile(r"https?://localhost(?::\d+)?(/[^\"'\s<>]*)?")


def outside_prefix(page: str) -> list[str]:
    """Every URL in ``page`` (attributes, and absolute URLs anywhere) that is not under PREFIX."""
    found = []
    for name, _, value in _PATH_ATTRIBUTE.findall(page):
        path = html.unescape(value)
        if name.lower() not in _NOT_URLS and not _under_prefix(path):
            found.append(f'{name}="{value}"')
    for match in _ABSOLUTE.finditer(page):
        if not _under_prefix(html.unescape(match.group(1) or "/")):
            found.append(match.group(0))
    return found


def _under_prefix(path: str) -> bool:
    return path == PREFIX or path.startswith((PREFIX + "/", PREFIX + "?", PREFIX + "#"))


@pytest.fixture(scope="session")
def _shared_prefixed_app() -> Flask:
    return built_once(URL_PREFIX=PREFIX)


@pytest.fixture
def papp(_shared_prefixed_app: Flask) -> Iterator[Flask]:
    """A test app served under PREFIX, lent as new like ``app``."""
    with as_new(_shared_prefixed_app) as app:
        yield app


@pytest.fixture
def pclient(papp: Flask) -> FlaskClient:
    return papp.test_client()


@pytest.fixture
def pfactory(papp: Flask) -> Factory:
    """Rows in ``papp``'s database (``factory`` writes to the root app's)."""
    return Factory()


def log_in(client: FlaskClient, email: str = "alice@example.com", **extra: str):  # type: ignore[no-untyped-def]
    return client.post(PREFIX + "/auth/login", data={"email": email, "password": PASSWORD, **extra})


def location_path(response) -> str:  # type: ignore[no-untyped-def]
    """The Location header as a path (the test client's server is http://localhost)."""
    location = response.headers["Location"]
    return location.removeprefix("http://localhost")


# --- where requests land -----------------------------------------------------------


def test_the_root_and_the_bare_prefix_lead_into_the_app(pclient):
    assert location_path(pclient.get("/")) == PREFIX + "/"
    bare = pclient.get(PREFIX)
    assert bare.status_code == 308
    assert location_path(bare) == PREFIX + "/"
    # The app's own index, under the prefix, goes on to the notes list.
    assert location_path(pclient.get(PREFIX + "/")) == PREFIX + "/notes/"


@pytest.mark.parametrize("path", ["/notes/", "/auth/login", "/healthz", "/static/css/app.css", "/apps/notesx/"])
def test_paths_outside_the_prefix_are_not_served(pclient, path):
    response = pclient.get(path)
    assert response.status_code == 404
    assert "served under /apps/notes/" in response.get_data(as_text=True)


def test_health_probes_answer_under_the_prefix(pclient):
    assert pclient.get(PREFIX + "/healthz").status_code == 200
    assert pclient.get(PREFIX + "/readyz").status_code == 200


def test_static_files_are_served_under_the_prefix_and_pages_ask_for_them_there(pclient):
    page = pclient.get(PREFIX + "/auth/login").get_data(as_text=True)
    for asset in ("css/app.css", "js/app.js", "vendor/htmx/htmx.min.js", "favicon.svg"):
        assert f'"{PREFIX}/static/{asset}"' in page, asset
        assert pclient.get(f"{PREFIX}/static/{asset}").status_code == 200


def test_a_page_that_is_not_there_is_the_apps_404_under_the_prefix(pclient):
    response = pclient.get(PREFIX + "/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "<main" in page  # the app's page, not the mount's plain text
    assert outside_prefix(page) == []


# --- logging in and out -----------------------------------------------------------------


def test_a_page_that_needs_a_login_sends_to_the_login_form_under_the_prefix(pclient):
    response = pclient.get(PREFIX + "/notes/tags")
    assert response.status_code == 302
    assert location_path(response) == PREFIX + "/auth/login?next=%2Fapps%2Fnotes%2Fnotes%2Ftags"


def test_after_logging_in_the_browser_goes_back_to_where_it_was(pclient, pfactory: Factory):
    pfactory.user("alice@example.com")
    response = log_in(pclient, next=PREFIX + "/notes/tags")
    assert response.status_code == 302
    assert location_path(response) == PREFIX + "/notes/tags"


@pytest.mark.parametrize("target", ["/notes/tags", "/elsewhere/", "/apps/notes/../elsewhere/", "//evil.example/"])
def test_a_next_outside_the_prefix_is_not_followed(pclient, pfactory: Factory, target):
    pfactory.user("alice@example.com")
    response = log_in(pclient, next=target)
    assert response.status_code == 302
    assert location_path(response) == PREFIX + "/notes/"


def test_register_and_log_out_stay_under_the_prefix(pclient):
    form = {"email": "bob@example.com", "password": PASSWORD, "confirm": PASSWORD}
    registered = pclient.post(PREFIX + "/auth/register", data=form)
    assert registered.status_code == 302
    assert location_path(registered) == PREFIX + "/notes/"
    assert pclient.get(PREFIX + "/notes/").status_code == 200
    logged_out = pclient.post(PREFIX + "/auth/logout")
    assert location_path(logged_out).startswith(PREFIX + "/auth/login")
    assert pclient.get(PREFIX + "/notes/").status_code == 302


def test_the_session_lives_under_the_prefix_only(pclient, pfactory: Factory):
    pfactory.user("alice@example.com")
    response = log_in(pclient, remember="y")
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        assert f"Path={PREFIX}/" in cookies[name], cookies[name]
    assert f"Path={PREFIX}/auth/" in cookies["device"]
    # The browser keeps it to the prefix: nothing of it goes to another path of the host.
    assert pclient.get(PREFIX + "/notes/").status_code == 200
    assert pclient.get_cookie("session", path=PREFIX + "/") is not None
    assert pclient.get_cookie("session", path="/") is None


def test_production_cookies_under_a_prefix_are_secure_not_host_prefixed(tmp_path: Path):
    """The __Host- prefix requires Path=/, so under a prefix a browser would refuse such a cookie."""
    env = {
        "SECRET_KEY": "k" * 48,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
        "URL_PREFIX": "/notes",
        "REGISTRATION": "open",
        "PROXY_HOPS": "0",
    }
    app = create_app(ProdConfig(env))
    app.config["WTF_CSRF_ENABLED"] = False  # the forms' CSRF is tested elsewhere; the cookies are the point
    with app.app_context():
        db.create_all()
    client = app.test_client()
    form = {"email": "carol@example.com", "password": PASSWORD, "confirm": PASSWORD}
    client.post("https://localhost/notes/auth/register", data=form)
    client.post("https://localhost/notes/auth/logout")
    login = client.post(
        "https://localhost/notes/auth/login",
        data={"email": "carol@example.com", "password": PASSWORD, "remember": "y"},
    )
    assert login.status_code == 302
    cookies = {c.split("=", 1)[0]: c for c in login.headers.getlist("Set-Cookie")}
    assert set(cookies) >= {"__Secure-session", "__Secure-remember", "__Secure-device"}, cookies
    assert not [name for name in cookies if name.startswith("__Host-")]
    paths = {"__Secure-session": "/notes/", "__Secure-remember": "/notes/", "__Secure-device": "/notes/auth/"}
    for name, path in paths.items():
        assert f"Path={path}" in cookies[name] and "Secure" in cookies[name] and "HttpOnly" in cookies[name]
        assert "Domain" not in cookies[name]
    with app.app_context():
        db.engine.dispose()


# --- every page's URLs ----------------------------------------------------------------------


def _crawl(client: FlaskClient, start: list[str], limit: int = 120) -> dict[str, str]:
    """Every HTML page reachable from ``start`` by links (GETs change nothing here), by URL."""
    queue, seen, pages = list(start), set(), {}
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code in (200, 302), f"{url}: {response.status_code}"
        if response.status_code == 302:
            target = location_path(response)
            assert _under_prefix(target), f"{url} redirects outside the prefix: {target}"
            queue.append(target)
            continue
        if response.mimetype != "text/html":
            continue
        page = response.get_data(as_text=True)
        pages[url] = page
        for href in re.findall(r"""<a\b[^>]*?\shref=["']([^"'#]+)""", page):
            link = html.unescape(href)
            if link.startswith(PREFIX + "/") and "/auth/oidc/" not in link:
                queue.append(link)
    return pages


def _a_full_account(factory: Factory) -> tuple[User, Note]:
    """An administrator with notes in every state: tagged, revised, shared, archived, trashed."""
    admin = factory.user("alice@example.com")
    admin.is_admin = True
    factory.user("bob@example.com")
    note = factory.note(admin, title="Shopping", content="- [ ] milk\n- [x] eggs\n\n[a link](https://example.org/)")
    factory.note(admin, title="Old", archived=True)
    factory.note(admin, title="Gone", deleted_at=sa.func.now())
    db.session.commit()
    update_note(note, {"content": "- [ ] milk\n- [ ] bread"})
    return admin, note


def test_every_page_a_logged_in_person_can_reach_keeps_its_urls_under_the_prefix(pclient, pfactory: Factory):
    _, note = _a_full_account(pfactory)
    assert log_in(pclient).status_code == 302
    pclient.post(f"{PREFIX}/notes/{note.id}/tags", data={"tags": "food, weekly"})
    shared = pclient.post(f"{PREFIX}/notes/{note.id}/shares", data={"days": ""}, follow_redirects=True)
    assert shared.status_code == 200

    pages = _crawl(
        pclient,
        [
            PREFIX + "/",
            f"{PREFIX}/notes/?q=milk",
            f"{PREFIX}/notes/?tag=food",
            f"{PREFIX}/notes/{note.id}",
            f"{PREFIX}/notes/{note.id}/edit",
            f"{PREFIX}/notes/{note.id}/history",
            PREFIX + "/account/2fa",
            PREFIX + "/api/v1/docs",
        ],
    )
    # The crawl reached the whole app, not just the first page.
    for must in ("/notes/tags", "/notes/trash", "/notes/archive", "/notes/shares", "/account/", "/admin/users"):
        assert PREFIX + must in pages, must
    assert len(pages) > 15, sorted(pages)
    problems = {url: found for url, page in pages.items() if (found := outside_prefix(page))}
    assert problems == {}
    # The shapes the scan must see, present for real.
    listing = pages[f"{PREFIX}/notes/?tag=food"]
    assert f'hx-post="{PREFIX}/notes/quick"' in listing
    assert f'hx-get="{PREFIX}/notes/"' in listing
    # Where a pin or archive button brings the browser back to.
    assert f'name="next" value="{PREFIX}/notes/?tag=food"' in listing
    view = pages[f"{PREFIX}/notes/{note.id}"]
    assert f'data-tasks-url="{PREFIX}/notes/{note.id}/tasks/"' in view
    assert f'hx-post="{PREFIX}/notes/{note.id}/tags"' in view
    assert f'action="{PREFIX}/auth/logout"' in view
    assert f'<script src="{PREFIX}/static/js/app.js"' in view
    assert f'"{PREFIX}/static/vendor/redoc/redoc.standalone.js"' in pages[PREFIX + "/api/v1/docs"]
    assert f'spec-url="{PREFIX}/api/v1/openapi.json"' in pages[PREFIX + "/api/v1/docs"]
    # The curl example names the API under the prefix.
    assert f"{BASE}/api/v1/notes" in pages[PREFIX + "/account/"]


def test_pages_without_a_login_keep_their_urls_under_the_prefix(pclient, papp, pfactory: Factory):
    pfactory.user("alice@example.com")
    runner = papp.test_cli_runner()
    reset = runner.invoke(args=["users", "reset-link", "alice@example.com"])
    assert reset.exit_code == 0, reset.output
    reset_path = reset.stdout.strip().splitlines()[0]
    assert reset_path.startswith(PREFIX + "/auth/reset/rst_")

    pages = _crawl(pclient, [PREFIX + "/auth/login", PREFIX + "/auth/register", PREFIX + "/auth/forgot", reset_path])
    assert reset_path in pages
    assert f'action="{reset_path}"' in pages[reset_path]
    problems = {url: found for url, page in pages.items() if (found := outside_prefix(page))}
    assert problems == {}


def test_the_scan_finds_a_url_that_forgot_the_prefix():
    """The guard above, on pages that went wrong."""
    assert outside_prefix('<a href="/notes/">x</a>') == ['href="/notes/"']
    assert outside_prefix('<form hx-post="/notes/quick">') == ['hx-post="/notes/quick"']
    assert outside_prefix('<article data-tasks-url="/notes/1/tasks/">') == ['data-tasks-url="/notes/1/tasks/"']
    assert outside_prefix('<input type="hidden" name="next" value="/notes/?q=a">') == ['value="/notes/?q=a"']
    assert outside_prefix("<p>http://localhost/s/shr_x</p>") == ["http://localhost/s/shr_x"]
    assert outside_prefix(f'<a href="{PREFIX}/notes/" aria-keyshortcuts="/">') == []


# --- what the app writes into links it hands out --------------------------------------------


def test_share_links_carry_the_prefix_and_open_the_note(pclient, pfactory: Factory):
    _, note = _a_full_account(pfactory)
    log_in(pclient)
    page = pclient.post(f"{PREFIX}/notes/{note.id}/shares", data={"days": ""}, follow_redirects=True)
    found = re.search(r"http://localhost(/[^\"'<\s]*/s/shr_[A-Za-z0-9_-]+)", page.get_data(as_text=True))
    assert found, "the new link is not on the page"
    assert found.group(1).startswith(PREFIX + "/s/shr_")
    pclient.post(PREFIX + "/auth/logout")
    opened = pclient.get(found.group(1))
    assert opened.status_code == 200
    assert "Shopping" in opened.get_data(as_text=True)


def test_the_api_hands_out_urls_under_the_prefix(pclient, pfactory: Factory):
    alice = pfactory.user("alice@example.com")
    _, secret = pfactory.token(alice)
    created = pclient.post(PREFIX + "/api/v1/notes", json={"title": "via API"}, headers=bearer(secret))
    assert created.status_code == 201
    note_id = created.get_json()["id"]
    assert created.headers["Location"] == f"{BASE}/api/v1/notes/{note_id}"
    share = pclient.post(f"{PREFIX}/api/v1/notes/{note_id}/shares", json={}, headers=bearer(secret))
    assert share.status_code == 201, share.get_json()
    assert share.get_json()["url"].startswith(f"{BASE}/s/shr_")


def test_the_openapi_document_names_the_prefix_as_its_server(pclient):
    document = pclient.get(PREFIX + "/api/v1/openapi.json").get_json()
    assert document["servers"] == [{"url": PREFIX, "description": "This server, where Notes is served under a path"}]
    # The paths stay the app's own: a client puts servers[0].url before them.
    assert "/api/v1/notes" in document["paths"]


def test_at_the_root_the_openapi_document_has_no_servers_entry(client):
    assert "servers" not in client.get("/api/v1/openapi.json").get_json()


def test_invitation_links_printed_by_the_cli_carry_the_prefix(papp):
    result = papp.test_cli_runner().invoke(args=["users", "invite", "--base-url", "https://example.com/"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("https://example.com/apps/notes/auth/register?invite=inv_")


def test_ticking_a_task_posts_to_the_url_the_page_gives(pclient, pfactory: Factory):
    _, note = _a_full_account(pfactory)
    log_in(pclient)
    page = pclient.get(f"{PREFIX}/notes/{note.id}").get_data(as_text=True)
    url = re.search(r'data-tasks-url="([^"]+)"', page)
    version = re.search(r'data-version="([^"]+)"', page)
    assert url and version
    # As app.js sends it: the URL from the page, the index after it.
    response = pclient.post(
        url.group(1) + "0", data={"version": version.group(1)}, headers={"X-Requested-With": "fetch"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert db.session.get(Note, note.id).content.startswith("- [x] milk")


def test_htmx_quick_capture_answers_under_the_prefix(pclient, pfactory: Factory):
    pfactory.user("alice@example.com")
    log_in(pclient)
    response = pclient.post(PREFIX + "/notes/quick", data={"text": "Call the plumber"}, headers={"HX-Request": "true"})
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert _under_prefix(location_path(response))
    assert db.session.scalars(sa.select(Note.title)).all() == ["Call the plumber"]


def test_the_plain_error_page_links_back_under_the_prefix(pclient, monkeypatch):
    """When even the layout cannot be drawn (it needs the database), the bare page's link keeps the prefix."""

    def layout_fails(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the layout needs the database")

    monkeypatch.setattr("app.http.errors.render_template", layout_fails)
    response = pclient.get(PREFIX + "/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "topbar" not in page  # the bare page, not the layout
    assert f'href="{PREFIX}/notes/"' in page
    assert outside_prefix(page) == []


# --- a proxy that strips the prefix ------------------------------------------------------------


@pytest.fixture
def behind_proxy() -> Iterator[FlaskClient]:
    """The app under PREFIX behind one trusted proxy on 127.0.0.1, which strips the prefix."""
    app = make_app(URL_PREFIX=PREFIX, PROXY_HOPS=1, TRUSTED_PROXIES=("127.0.0.1/32",))
    with app.app_context():
        db.create_all()
        yield app.test_client()
        db.session.remove()
        db.drop_all()


def test_a_trusted_proxys_x_forwarded_prefix_mounts_the_app(behind_proxy):
    response = behind_proxy.get(
        "/auth/login", headers={"X-Forwarded-Prefix": PREFIX}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    )
    assert response.status_code == 200
    assert f'action="{PREFIX}/auth/login"' in response.get_data(as_text=True)
    assert outside_prefix(response.get_data(as_text=True)) == []


def test_x_forwarded_prefix_from_a_client_is_not_believed(behind_proxy):
    response = behind_proxy.get(
        "/auth/login", headers={"X-Forwarded-Prefix": PREFIX}, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert response.status_code == 404


def test_at_the_root_x_forwarded_prefix_changes_no_link():
    app = make_app(PROXY_HOPS=1, TRUSTED_PROXIES=("127.0.0.1/32",))
    with app.app_context():
        db.create_all()
        response = app.test_client().get(
            "/auth/login", headers={"X-Forwarded-Prefix": "/evil"}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
        )
        db.session.remove()
        db.drop_all()
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'action="/auth/login"' in page and "/evil" not in page


def test_at_the_root_cookies_and_links_are_as_before(client, factory: Factory):
    factory.user("alice@example.com")
    response = client.post("/auth/login", data={"email": "alice@example.com", "password": PASSWORD})
    assert response.headers["Location"] == "/notes/"
    session = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Path=/;" in session or session.endswith("Path=/")
    page = client.get("/notes/").get_data(as_text=True)
    assert 'href="/notes/archive"' in page and 'src="/static/js/app.js"' in page
