"""The app through nginx: the forms, the API, a real server error."""

from __future__ import annotations

import re
import time
import uuid

import pytest
import requests
from tests.helpers.stack import Account, Stack, access_request_ids, csrf_from

pytestmark = pytest.mark.stack


def test_register_login_note_token_and_api_listing(stack: Stack) -> None:
    user = Account(stack, f"flow-{uuid.uuid4().hex[:8]}@example.com")
    assert user.register().status_code == 302

    # Log out and back in, through the forms.
    page = user.browser.get(stack.url("/notes/"), timeout=10)
    logout = user.browser.post(
        stack.url("/auth/logout"), data={"csrf_token": csrf_from(page.text)}, allow_redirects=False, timeout=10
    )
    assert logout.status_code == 302
    assert user.browser.get(stack.url("/notes/"), allow_redirects=False, timeout=10).status_code == 302
    login = user.login()
    assert login.status_code == 302, login.text[:300]

    title = f"Stack note {uuid.uuid4().hex[:6]}"
    page = user.browser.get(stack.url("/notes/new"), timeout=10)
    created = user.browser.post(
        stack.url("/notes/"),
        data={"csrf_token": csrf_from(page.text), "title": title, "content": "Written *through* nginx."},
        allow_redirects=False,
        timeout=10,
    )
    assert created.status_code == 302
    assert re.fullmatch(re.escape(stack.prefix) + r"/notes/\d+", created.headers["Location"])

    token = user.create_token("listing")
    assert token.startswith("nt_")
    listing = user.api().get(stack.url("/api/v1/notes"), timeout=10)
    assert listing.status_code == 200
    assert [n["title"] for n in listing.json()["items"]] == [title]
    # Without the token the API refuses.
    assert stack.session().get(stack.url("/api/v1/notes"), timeout=10).status_code == 401


def test_external_urls_are_https_with_the_public_port(stack: Stack, account: Account) -> None:
    # url_for(_external=True) renders the curl example on the account page:
    # ProxyFix must have taken scheme and host from nginx.
    page = account.browser.get(stack.url("/account/"), timeout=10)
    assert stack.url("/api/v1/notes") in page.text
    created = account.api().post(stack.url("/api/v1/notes"), json={"title": "located"}, timeout=10)
    assert created.status_code == 201
    assert created.headers["Location"].startswith(stack.url("/api/v1/notes/"))


def test_request_id_round_trips_to_the_app_log(stack: Stack) -> None:
    rid = f"stack-{uuid.uuid4().hex}"
    response = stack.session().get(stack.url("/healthz"), headers={"X-Request-ID": rid}, timeout=10)
    assert response.headers["X-Request-ID"] == rid
    minted = stack.session().get(stack.url("/healthz"), timeout=10).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", minted)  # nginx's $request_id
    assert rid in access_request_ids(stack.logs("web"))
    assert rid in access_request_ids(stack.logs("nginx"))


def test_oversize_body_is_refused_with_413(stack: Stack, account: Account) -> None:
    body = {"title": "big", "content": "x" * (1024 * 1024 + 1)}
    response = account.api().post(stack.url("/api/v1/notes"), json=body, timeout=30)
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("application/problem+json")
    # Just under the limit still reaches the app (which then validates it).
    small = account.api().post(stack.url("/api/v1/notes"), json={"title": "small", "content": "y" * 1000}, timeout=10)
    assert small.status_code == 201


def test_database_gone_is_a_generic_503_without_debug_details(stack: Stack, account: Account) -> None:
    """Take the database away: pages and API calls that query it get a 503 with Retry-After, saying nothing inside."""
    stack.compose("stop", "db", timeout=60)
    try:
        page = account.browser.get(stack.url("/notes/"), timeout=30)
        api = account.api().get(stack.url("/api/v1/notes"), timeout=30)
    finally:
        stack.compose("start", "db", timeout=60)
    assert page.status_code == 503
    assert int(page.headers["Retry-After"]) > 0
    # The app's own layout needs the database too (base.html asks who is
    # logged in), so with the database gone the plain error page answers.
    assert "The database is busy or unreachable" in page.text
    assert "Try again in a few seconds" in api.json()["detail"]
    assert api.status_code == 503
    assert int(api.headers["Retry-After"]) > 0
    assert api.headers["Content-Type"].startswith("application/problem+json")
    for body in (page.text, api.text):
        for leak in ("Traceback", "psycopg", "sqlalchemy", "OperationalError", 'File "/', "Werkzeug Debugger"):
            assert leak not in body
    stack.up()
    stack.wait_ready()
    assert account.browser.get(stack.url("/notes/"), timeout=10).status_code == 200


def test_debug_pin_console_is_not_exposed(stack: Stack) -> None:
    # Werkzeug's debugger serves its console under any path with ?__debugger__.
    response = stack.session().get(
        stack.url("/?__debugger__=yes&cmd=resource&f=style.css"), allow_redirects=False, timeout=10
    )
    assert response.status_code in (302, 404)
    assert "debugger" not in response.text.lower()


def test_unauthenticated_pages_redirect_to_login_over_https(stack: Stack) -> None:
    response = stack.session().get(stack.url("/notes/"), allow_redirects=False, timeout=10)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(stack.prefix + "/auth/login?")
    with pytest.raises(requests.exceptions.SSLError):
        # The certificate is the stack's own: an unrelated CA bundle rejects it.
        s = requests.Session()
        s.trust_env = False
        s.get(stack.url("/healthz"), timeout=10, verify=requests.certs.where())


def test_api_answers_carry_the_configured_rate_limits_through_nginx(stack: Stack, account: Account) -> None:
    # The stack sets both quotas to 10,000,000 (tests/helpers/stack.UNTHROTTLED):
    # seeing them proves compose passes the settings and nginx the headers.
    response = account.api().get(stack.url("/api/v1/notes?limit=1"), timeout=10)
    assert response.status_code == 200
    assert response.headers["RateLimit-Policy"] == '"token";q=10000000;w=60, "user";q=10000000;w=60'
    assert re.fullmatch(r'"token";r=\d+;t=\d+, "user";r=\d+;t=\d+', response.headers["RateLimit"])


def test_a_client_cannot_set_its_own_queue_stamp(stack: Stack, account: Account) -> None:
    # nginx replaces X-Request-Start with its own: a stamp from 5 s ago sent
    # by the client would otherwise get the request shed with a 503.
    stale = {"X-Request-Start": f"t={time.time() - 5:.3f}"}
    response = account.api().get(stack.url("/api/v1/notes?limit=1"), headers=stale, timeout=10)
    assert response.status_code == 200


def test_no_log_line_holds_a_secret_link(stack: Stack) -> None:
    secret = "inv_" + uuid.uuid4().hex * 2
    stack.session().get(stack.url(f"/auth/register?invite={secret}"), timeout=10)
    logs = stack.logs("nginx") + stack.logs("web")
    assert "invite=inv_[redacted]" in stack.logs("nginx")
    assert secret not in logs
