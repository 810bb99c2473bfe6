"""Who is calling the API: a Bearer token or the browser session.

Runs before every API view. Token calls skip CSRF (browsers never attach
them on their own); cookie calls that change state must send X-CSRFToken.
Once the caller is known the call is counted against its rate limits
(app/api/ratelimit.py); calls that are not let in count nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, current_app, g, request
from flask_login import current_user
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from ..accounts.models import Owner, User
from ..accounts.tokens import find_usable_token
from ..extensions import csrf, db
from .blueprint import bp
from .ratelimit import count_api_call

F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ADMIN_PATHS = "/api/v1/admin/"
JSON_TYPES = frozenset({"application/json", "application/merge-patch+json"})


@dataclass(frozen=True, slots=True)
class Caller:
    """A token's owner, known by id only: all that owner checks and note queries need."""

    id: int


def _unauthorized(detail: str) -> Unauthorized:
    return Unauthorized(detail, www_authenticate=WWWAuthenticate("Bearer", {"realm": "notes"}))


@bp.before_request
def authenticate() -> None:
    g.api_token = None
    header = request.headers.get("Authorization")
    if _view_is_public():
        # Asking for a password reset and using one: for people who cannot log in.
        # Nobody is acting, so nothing is counted against a caller's quota.
        g.api_owner = g.api_user = None
    elif header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise _unauthorized("Send the token as 'Authorization: Bearer <token>'.")
        token = find_usable_token(secret.strip())
        if token is None:
            raise _unauthorized(
                "This API token is unknown, revoked or expired; create a new one in your account settings."
            )
        # Counted before the scope check: a read-only token's refused write is still its holder's call.
        count_api_call(token_id=token.token_id, user_id=token.owner_id)
        if request.method not in SAFE_METHODS:
            if token.scope == "read":
                abort(403, "This token is read-only; create a token with write access to change notes.")
            # An admin token manages accounts (/api/v1/admin) and reads notes; it changes none.
            if token.scope == "admin" and not request.path.startswith(ADMIN_PATHS):
                abort(403, "An admin token only manages accounts; create a token with write access to change notes.")
        g.api_token = token
        g.api_owner = Caller(token.owner_id)
        g.api_user = None  # loaded by api_user() if a view needs the account
    elif current_user.is_authenticated:
        if request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        g.api_owner = g.api_user = current_user._get_current_object()
        # Counted after the CSRF check: a forged call from another site is not
        # the user's, and must not spend their quota.
        count_api_call(token_id=None, user_id=g.api_owner.id)
    else:
        raise _unauthorized("Log in, or send a personal API token as 'Authorization: Bearer <token>'.")

    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding")
    accepted = _accepted_types()
    if request.method not in SAFE_METHODS and has_body and request.mimetype not in accepted:
        wanted = (
            "JSON with 'Content-Type: application/json'" if accepted is JSON_TYPES else " or ".join(sorted(accepted))
        )
        abort(415, f"Send the body as {wanted} (got {request.mimetype or 'none'!r}).")


def public(view: F) -> F:
    """Let anyone call this API method, without a token or a session (a password reset)."""
    view.public = True  # type: ignore[attr-defined]
    return view


def _view_is_public() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    method = getattr(view_class, request.method.lower(), None) if view_class is not None else view
    return bool(getattr(method, "public", False))


def accepts(*media_types: str) -> Callable[[F], F]:
    """Let a view take request bodies of ``media_types`` instead of JSON."""

    def mark(view: F) -> F:
        view.accepted_media_types = frozenset(media_types)  # type: ignore[attr-defined]
        return view

    return mark


def _accepted_types() -> frozenset[str]:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "accepted_media_types", JSON_TYPES)


def api_owner() -> Owner:
    """Whom this API request acts for, enough to read and change their rows (set by ``authenticate``)."""
    owner: Owner = g.api_owner
    return owner


def api_user() -> User:
    """The account this API request acts for, loaded on first use by a token call.

    Aborts 401 if the account was deleted after its token was checked.
    """
    user: User | None = g.api_user
    if user is None:
        user = g.api_user = db.session.get(User, g.api_owner.id)
        if user is None:
            raise _unauthorized("This API token's account no longer exists.")
    return user
