"""The stack under a path (URL_PREFIX=/notes): the tier's black-box checks through nginx, and
what only a prefix has: a redirect into it, nothing outside it, cookies scoped to it.

Every path the imported checks ask for goes through ``stack.url``, which puts
the prefix before it; so they hold under /notes exactly as at the root.
"""

from __future__ import annotations

import re

import pytest
import requests
from tests.helpers.stack import Account, Stack
from tests.stack.test_app import (  # noqa: F401 - collected here, against this folder's `stack`
    test_a_client_cannot_set_its_own_queue_stamp,
    test_api_answers_carry_the_configured_rate_limits_through_nginx,
    test_debug_pin_console_is_not_exposed,
    test_external_urls_are_https_with_the_public_port,
    test_oversize_body_is_refused_with_413,
    test_register_login_note_token_and_api_listing,
    test_unauthenticated_pages_redirect_to_login_over_https,
)
from tests.stack.test_attachments import (  # noqa: F401
    test_a_shared_notes_image_reaches_a_visitor_through_nginx,
    test_nginx_sends_the_file_the_app_names_with_the_apps_headers,
    test_uploads_over_the_files_limit_are_refused_by_nginx_and_the_app,
)
from tests.stack.test_edge import (  # noqa: F401
    test_api_docs_keep_their_looser_csp_without_a_duplicate,
    test_http_redirects_everything_to_https_with_308,
    test_nginx_own_answers_carry_the_headers_too,
    test_security_headers_once_each,
    test_static_files_come_from_nginx_with_cache_headers,
    test_the_api_over_plain_http_is_refused_not_redirected,
    test_tls_offers_http2_and_modern_protocols_only,
    test_wrong_host_header_after_a_valid_handshake_is_not_served,
)
from tests.stack.test_edge_limits import (  # noqa: F401
    test_a_share_link_through_nginx_is_private_redacted_and_rate_limited,
    test_credential_posts_are_rate_limited_with_429,
)

pytestmark = pytest.mark.stack

_PATH_ATTRIBUTE = re.compile(r"""\s(href|src|action|hx-[a-z-]+|data-[a-z-]+-url)="(/[^"]*)\"""")


def test_the_root_and_the_bare_prefix_redirect_into_it(stack: Stack) -> None:
    root = stack.session().get(stack.base + "/", allow_redirects=False, timeout=10)
    assert root.status_code == 302
    assert root.headers["Location"] == stack.url("/")
    bare = stack.session().post(stack.base + "/notes?x=1", allow_redirects=False, timeout=10)
    assert bare.status_code == 308
    assert bare.headers["Location"] == stack.url("/?x=1")
    # Followed: the app's index, then the login form, all under the prefix.
    landed = stack.session().get(stack.base + "/", timeout=10)
    assert landed.status_code == 200
    assert landed.url.startswith(stack.url("/auth/login"))


@pytest.mark.parametrize("path", ["/auth/login", "/api/v1/notes", "/static/css/app.css", "/healthz", "/s/shr_x"])
def test_nothing_outside_the_prefix_is_served(stack: Stack, path: str) -> None:
    response = stack.session().get(stack.base + path, allow_redirects=False, timeout=10)
    assert response.status_code == 404
    assert response.headers["Strict-Transport-Security"]


def test_pages_ask_for_everything_under_the_prefix(stack: Stack, account: Account) -> None:
    for path in ("/notes/", "/account/", "/notes/new"):
        page = account.browser.get(stack.url(path), timeout=10)
        assert page.status_code == 200, path
        found = _PATH_ATTRIBUTE.findall(page.text)
        outside = [f"{name}={value}" for name, value in found if not value.startswith("/notes/")]
        assert outside == [], path
        # What a page asks nginx for is there.
        for asset in re.findall(r'(?:src|href)="(/notes/static/[^"?]+)', page.text):
            assert stack.session().get(stack.base + asset, timeout=10).status_code == 200, asset


def test_the_session_cookie_is_secure_prefixed_and_scoped_to_the_prefix(stack: Stack) -> None:
    response = stack.session().get(stack.url("/auth/login"), timeout=10)
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    # __Host- needs Path=/: under a prefix a browser would refuse it.
    assert cookie.startswith("__Secure-session=")
    for attribute in ("Secure", "HttpOnly", "Path=/notes/", "SameSite=Lax"):
        assert attribute in cookie
    assert "Domain" not in cookie


def test_a_clients_x_forwarded_prefix_is_dropped_by_nginx(stack: Stack) -> None:
    # Passed on, the app would believe it (it comes from nginx) and answer 404.
    response = stack.session().get(stack.url("/auth/login"), headers={"X-Forwarded-Prefix": "/evil"}, timeout=10)
    assert response.status_code == 200
    assert "/evil" not in response.text


def test_the_openapi_document_and_its_page_name_the_prefix(stack: Stack) -> None:
    document = stack.session().get(stack.url("/api/v1/openapi.json"), timeout=10).json()
    assert document["servers"][0]["url"] == "/notes"
    page = stack.session().get(stack.url("/api/v1/docs"), timeout=10).text
    script = re.search(r'<script src="([^"]+)"', page)
    assert script and script.group(1) == "/notes/static/vendor/redoc/redoc.standalone.js"
    assert stack.session().get(stack.base + script.group(1), timeout=10).status_code == 200


def test_the_containers_health_checks_ask_under_the_prefix(stack: Stack) -> None:
    # `up --wait` already needed web healthy; ask again, and see /healthz is not served at the root.
    assert stack.exec("web", "python", "/app/healthcheck.py", "/readyz", "/healthz") == ""
    with pytest.raises(AssertionError):
        stack.exec("web", "env", "URL_PREFIX=", "python", "/app/healthcheck.py")


def test_plain_http_keeps_the_path_when_it_sends_to_https(stack: Stack) -> None:
    s = requests.Session()
    s.trust_env = False
    response = s.get(f"http://localhost:{stack.http_port}/", allow_redirects=False, timeout=10)
    assert response.status_code == 308
    assert response.headers["Location"] == stack.base + "/"
