"""nginx at the edge: redirects, TLS, headers, static files, refusals, limits."""

from __future__ import annotations

import socket
import ssl
import subprocess
import time
import uuid

import pytest
import requests
from tests.helpers.stack import Account, Stack

pytestmark = pytest.mark.stack

STRICT_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "X-Frame-Options": "DENY",
}
CSP_MUSTS = ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "default-src 'self'")


def _only_one(response: requests.Response, name: str) -> str:
    """The header's single value; fails when it is missing or sent twice."""
    values = response.raw.headers.getlist(name)
    assert len(values) == 1, f"{name}: {values!r} on {response.url}"
    return str(values[0])


def _plain_http(stack: Stack) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    return s


def test_http_redirects_everything_to_https_with_308(stack: Stack) -> None:
    response = _plain_http(stack).post(
        f"http://localhost:{stack.http_port}{stack.prefix}/notes/?page=2", allow_redirects=False, timeout=10
    )
    assert response.status_code == 308  # 308 keeps the method and body
    assert response.headers["Location"] == stack.url("/notes/?page=2")


def test_the_api_over_plain_http_is_refused_not_redirected(stack: Stack) -> None:
    response = _plain_http(stack).get(
        f"http://localhost:{stack.http_port}{stack.prefix}/api/v1/notes",
        headers={"Authorization": "Bearer nt_x"},
        timeout=10,
    )
    assert response.status_code == 403
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "https://" in response.json()["detail"]


def test_acme_challenges_are_served_over_http(stack: Stack) -> None:
    name = f"probe-{uuid.uuid4().hex}"
    # The webroot is a volume nginx mounts read-only; certbot (or anything) writes it.
    subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--user", "0", "-v", f"{stack.project}_acme:/acme",
         "--entrypoint", "sh", "notes-web:stack-test", "-c",
         f"mkdir -p /acme/.well-known/acme-challenge && echo ok-{name} > /acme/.well-known/acme-challenge/{name}"],
        check=True, timeout=60, capture_output=True,
    )  # fmt: skip
    response = _plain_http(stack).get(
        f"http://localhost:{stack.http_port}/.well-known/acme-challenge/{name}", allow_redirects=False, timeout=10
    )
    assert response.status_code == 200
    assert response.text.strip() == f"ok-{name}"
    missing = _plain_http(stack).get(
        f"http://localhost:{stack.http_port}/.well-known/acme-challenge/nothing", allow_redirects=False, timeout=10
    )
    assert missing.status_code == 404


def test_tls_offers_http2_and_modern_protocols_only(stack: Stack) -> None:
    ctx = ssl.create_default_context(cafile=stack.ca)
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection(("127.0.0.1", stack.https_port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"
        assert tls.version() in ("TLSv1.3", "TLSv1.2")
    # TLS 1.2 with a Mozilla-intermediate suite works too.
    ctx12 = ssl.create_default_context(cafile=stack.ca)
    ctx12.maximum_version = ssl.TLSVersion.TLSv1_2
    with (
        socket.create_connection(("127.0.0.1", stack.https_port), timeout=10) as raw,
        ctx12.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.version() == "TLSv1.2"
        assert tls.cipher()[0].startswith("ECDHE-")


@pytest.mark.parametrize("path", ["/auth/login", "/static/css/app.css"])
def test_security_headers_once_each(stack: Stack, path: str) -> None:
    response = stack.session().get(stack.url(path), timeout=10)
    assert response.status_code == 200
    for name, value in STRICT_HEADERS.items():
        assert _only_one(response, name) == value
    csp = _only_one(response, "Content-Security-Policy")
    for must in CSP_MUSTS:
        assert must in csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["Server"] == "nginx"  # server_tokens off: no version


def test_nginx_own_answers_carry_the_headers_too(stack: Stack, account: Account) -> None:
    response = account.api().post(stack.url("/api/v1/notes"), data=b"x" * (2 * 1024 * 1024), timeout=30)
    assert response.status_code == 413
    assert _only_one(response, "Strict-Transport-Security")
    assert "frame-ancestors 'none'" in _only_one(response, "Content-Security-Policy")


def test_api_docs_keep_their_looser_csp_without_a_duplicate(stack: Stack) -> None:
    response = stack.session().get(stack.url("/api/v1/docs"), timeout=10)
    assert response.status_code == 200
    csp = _only_one(response, "Content-Security-Policy")
    assert "style-src 'self' 'unsafe-inline'" in csp
    assert "worker-src 'self' blob:" in csp
    for must in CSP_MUSTS:
        assert must in csp


def test_static_files_come_from_nginx_with_cache_headers(stack: Stack) -> None:
    probe, control = uuid.uuid4().hex, uuid.uuid4().hex
    css = stack.session().get(stack.url(f"/static/css/app.css?probe={probe}"), timeout=10)
    assert css.status_code == 200
    assert css.headers["Content-Type"].startswith("text/css")
    assert css.headers["Cache-Control"] == "max-age=3600"
    assert css.headers.get("ETag")
    assert css.headers.get("Content-Encoding") == "gzip"  # requests asks for gzip
    versioned = stack.session().get(stack.url("/static/css/app.css?v=0123abcd"), timeout=10)
    assert versioned.headers["Cache-Control"] == "max-age=315360000"
    assert stack.session().get(stack.url("/static/nope.css"), timeout=10).status_code == 404

    # The control request goes through to gunicorn, so its log line shows
    # up; the static one must never reach it.
    assert stack.session().get(stack.url(f"/healthz?probe={control}"), timeout=10).status_code == 200
    deadline = time.monotonic() + 15
    while control not in (logs := stack.logs("web")) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert control in logs
    assert probe not in logs
    assert probe in stack.logs("nginx")


def test_unknown_host_is_dropped_on_http(stack: Stack) -> None:
    with pytest.raises(requests.exceptions.ConnectionError):
        _plain_http(stack).get(
            f"http://127.0.0.1:{stack.http_port}/", headers={"Host": "evil.example"}, allow_redirects=False, timeout=10
        )


def test_unknown_host_is_refused_at_the_tls_handshake(stack: Stack) -> None:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the handshake must fail before any certificate is sent
    with (
        socket.create_connection(("127.0.0.1", stack.https_port), timeout=10) as raw,
        pytest.raises(ssl.SSLError),
        ctx.wrap_socket(raw, server_hostname="evil.example"),
    ):
        pass


def test_wrong_host_header_after_a_valid_handshake_is_not_served(stack: Stack) -> None:
    try:
        response = stack.session().get(stack.url("/notes/"), headers={"Host": "evil.example"}, timeout=10)
    except requests.exceptions.ConnectionError:
        return  # nginx closed the connection (444): refused
    assert response.status_code in (400, 421)


def test_database_is_not_published_nor_reachable_from_nginx(stack: Stack) -> None:
    assert stack.compose("port", "db", "5432", check=False).returncode != 0
    published = stack.compose("ps", "--format", "{{.Service}} {{.Ports}}").stdout
    for line in published.splitlines():
        service, _, ports = line.partition(" ")
        if service != "nginx":
            assert "->" not in ports, line
    # nginx (frontend network only) cannot even resolve the database.
    assert stack.compose("exec", "-T", "nginx", "getent", "hosts", "db", check=False).returncode != 0
    assert stack.compose("exec", "-T", "web", "getent", "hosts", "db", check=False).returncode == 0


def test_web_runs_as_non_root_without_compilers_or_tests(stack: Stack) -> None:
    out = stack.compose(
        "exec", "-T", "web", "sh", "-c",
        "id -u; command -v gcc cc make || true; ls /app; test -e /app/tests && echo HAS-TESTS || true",
    ).stdout.split()  # fmt: skip
    assert out[0] == "10001"
    assert sorted(out[1:]) == ["app", "gunicorn.conf.py", "healthcheck.py", "migrations", "self_signed_cert.py"]
