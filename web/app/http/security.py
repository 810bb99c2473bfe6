"""Browser-facing safety: same-site redirects and security headers that hold
even when the app runs without nginx in front of it."""

from __future__ import annotations

from typing import TypeGuard
from urllib.parse import unquote, urlsplit

from flask import Flask, Response, has_request_context, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
)
# ReDoc renders the API docs with inline styles and a blob: web worker; only
# that page gets the looser policy.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def is_safe_next(target: str | None, root: str | None = None) -> TypeGuard[str]:
    """True when ``target`` is a path of this app, safe to redirect to.

    Refuses absolute URLs, scheme-relative ``//host`` URLs, backslash tricks
    that browsers read as ``//``, and anything with control characters.
    Under a URL prefix the path must lie under ``root`` (by default the
    request's, like ``/notes``): another path on the same host is another
    site's, not this app's.
    """
    if root is None:
        root = request.script_root if has_request_context() else ""
    if not target or not target.startswith("/"):
        return False
    if root and target != root and not target.startswith(root + "/"):
        return False
    if target.startswith(("//", "/\\")) or "\\" in target:
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    if root and any(segment in (".", "..") for segment in unquote(parts.path).split("/")):
        return False  # "/notes/../other" is /other to a browser
    return not parts.scheme and not parts.netloc


def policy_for(app: Flask) -> str:
    """The pages' CSP. With single sign-on, a form may also lead to the identity
    provider (``form-action`` holds through redirects): "Link SSO" posts, then
    redirects there. Its authorization endpoint is assumed on the issuer's origin."""
    issuer = app.config.get("OIDC_ISSUER") or ""
    if not issuer:
        return CSP
    parts = urlsplit(issuer)
    return CSP.replace("form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}")


def init_app(app: Flask) -> None:
    policy = policy_for(app)

    def headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        docs = request.path.startswith("/api/v1/docs")
        response.headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else policy)
        return response

    app.after_request(headers)
