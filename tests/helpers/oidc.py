"""A real OpenID Connect provider for tests: ``oidc-provider-mock`` on 127.0.0.1,
in a thread, on a free port, and the steps a browser takes through it.

The provider signs its ID tokens with a key of its own that it publishes at
its JWKS endpoint, and names itself ``http://127.0.0.1:PORT`` (the host it
is asked at). On its consent page a test picks the user (``sub``) or denies.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import oidc_provider_mock
import requests
import werkzeug.serving
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

CLIENT_ID = "notes-tests"
CLIENT_SECRET = "notes-tests-client-secret"


@dataclass(frozen=True)
class Provider:
    issuer: str

    def set_user(self, sub: str, **claims: Any) -> None:
        """What the provider says about ``sub`` (email, email_verified, name...)."""
        response = requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=5)
        assert response.status_code == 204, response.text

    def app_config(self, **extra: Any) -> dict[str, Any]:
        """The Notes settings that use this provider."""
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            **extra,
        }


class _QuietHandler(werkzeug.serving.WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class _IssuerRewrite:
    """Answers token requests as if the provider were at ``host``: its ID tokens then name another issuer."""

    def __init__(self, app: Any, host: str) -> None:
        self.app, self.host = app, host

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/oauth2/token":
            environ = {**environ, "HTTP_HOST": self.host}
        return self.app(environ, start_response)


class _SignatureTamper:
    """Changes one character of the signature of every ID token the provider hands out."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != "/oauth2/token":
            return self.app(environ, start_response)
        captured: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = json.loads(b"".join(self.app(environ, keep)))
        head, payload, signature = body["id_token"].split(".")
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        body["id_token"] = f"{head}.{payload}.{flipped}"
        data = json.dumps(body).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(data)))])
        return [data]


@contextmanager
def running_provider(
    *,
    token_max_age: timedelta = timedelta(hours=1),
    another_issuer: bool = False,
    bad_signatures: bool = False,
    host: str = "127.0.0.1",
) -> Iterator[Provider]:
    """A provider serving in a thread until the block ends.

    ``token_max_age`` below zero makes it hand out ID tokens that have
    already expired; ``another_issuer`` makes its ID tokens name
    ``http://localhost:PORT`` as their issuer while its discovery document
    names ``http://127.0.0.1:PORT``; ``bad_signatures`` breaks the signature
    of each ID token it hands out.
    """
    app: Any = oidc_provider_mock.app(require_nonce=True, access_token_max_age=token_max_age)
    if bad_signatures:
        app = _SignatureTamper(app)
    rewrite = _IssuerRewrite(app, "") if another_issuer else None
    server = werkzeug.serving.make_server(host, 0, rewrite or app, threaded=True, request_handler=_QuietHandler)
    if rewrite is not None:
        rewrite.host = f"localhost:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Provider(f"http://{host}:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def local_path(url: str) -> str:
    """The path and query of ``url``, for the test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def to_provider(start: TestResponse) -> str:
    """The provider's authorization URL that ``start`` (the app's answer) redirects to."""
    assert start.status_code == 302, start.get_data(as_text=True)
    return start.headers["Location"]


def consent(authorize_url: str, *, sub: str | None = None, deny: bool = False) -> str:
    """Answer the provider's consent page as a person would: the callback URL it sends the browser back to."""
    data: dict[str, str] = {"action": "deny"} if deny else {"sub": sub or ""}
    answer = requests.post(authorize_url, data=data, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def sso_login(
    client: FlaskClient,
    sub: str,
    *,
    start: str = "/auth/oidc/login",
    deny: bool = False,
    method: str = "get",
    data: dict[str, str] | None = None,
) -> TestResponse:
    """Drive a whole single sign-on through the app and the provider; the app's answer to the callback.

    ``data`` is the form posted to ``start`` (``method`` "post"), e.g. the password that linking asks for.
    """
    begin = client.post(start, data=data or {}) if method == "post" else client.get(start)
    callback = consent(to_provider(begin), sub=sub, deny=deny)
    return client.get(local_path(callback))


__all__: Sequence[str] = [
    "CLIENT_ID",
    "Provider",
    "consent",
    "local_path",
    "running_provider",
    "sso_login",
    "to_provider",
]
