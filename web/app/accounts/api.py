"""/api/v1/tokens and /api/v1/sessions: personal API tokens, and the login sessions a user can end."""

from __future__ import annotations

from typing import Any

from flask import abort, g, request, url_for
from flask.views import MethodView
from werkzeug.exceptions import TooManyRequests

from ..api.auth import api_owner, api_user
from ..api.blueprint import bp
from ..api.docs import id_links, problem_response
from ..api.idempotency import IDEMPOTENCY_KEY, IDEMPOTENCY_LOST, deferred, idempotent_after
from ..http import jsonbody
from .schemas import (
    SessionListSchema,
    SessionsEndedSchema,
    TokenCreatedSchema,
    TokenCreateSchema,
    TokenListSchema,
    TokenSchema,
)
from .service import AccountError, PasswordGuessing, confirm_password
from .sessions import active_sessions, end_other_sessions, end_user_session
from .tokens import create_token, get_owned_token, revoke_token, user_tokens
from .views import current_client

TOKEN_ITEM = "/api/v1/tokens/{token_id}"  # noqa: S105 - a path, not a secret
TOKEN_LINKS = id_links("token_id", {"GetToken": (TOKEN_ITEM, "get"), "RevokeToken": (TOKEN_ITEM, "delete")})


@bp.route("/tokens")
class TokenCollection(MethodView):
    @bp.response(200, TokenListSchema)
    def get(self) -> Any:
        """List your tokens (never their secrets)."""
        return {"items": user_tokens(api_owner())}

    @idempotent_after(lambda: _may_create_tokens(checked_body=False))
    @bp.arguments(TokenCreateSchema)
    @bp.response(201, TokenCreatedSchema, headers={"Location": {"schema": {"type": "string"}}})
    @bp.doc(responses={201: {"links": TOKEN_LINKS}}, parameters=[IDEMPOTENCY_KEY])
    @problem_response(409, IDEMPOTENCY_LOST)
    @problem_response(
        403,
        "Called with an API token (tokens cannot create tokens), the password is wrong, "
        "or the admin scope was asked for by a non-administrator",
    )
    @problem_response(429, "Too many wrong passwords from this client; see Retry-After")
    def post(self, data: dict[str, Any]) -> Any:
        """Create a token, from a browser session and with your password. The secret is in this response only.

        A token cannot create tokens: one stolen token must not be able to
        mint others that outlive its revocation.
        """
        _may_create_tokens(password=data["password"])
        user = api_user()
        token, secret = create_token(
            user, data["name"], data["scope"], data["expires_in_days"], commit=not deferred(), ip=request.remote_addr
        )
        body = {name: getattr(token, name) for name in TokenSchema().fields} | {"token": secret}
        return body, 201, {"Location": url_for("api.TokenItem", token_id=token.id, _external=True)}


def _may_create_tokens(*, password: str | None = None, checked_body: bool = True) -> None:
    """Abort unless this caller may create a token: from a session, never a token, with the right password.

    Run by the view, and before an Idempotency-Key's stored answer (which
    holds a secret) is given again; the second time in one request it does
    nothing. With ``checked_body`` False the password comes from the raw body,
    before the schema has checked it (a body without one is the schema's 422).
    """
    if g.get("token_creation_allowed"):
        return
    if g.api_token is not None:
        abort(403, "API tokens cannot create tokens. Create one on the Account page, or from a logged-in session.")
    if not checked_body:
        try:
            body = jsonbody.loads(request.get_data(cache=True).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):  # the schema's parser answers it with a 400
            return
        password = body.get("password") if isinstance(body, dict) else None
        if not isinstance(password, str):
            return
    try:
        confirm_password(api_user(), password or "", current_client())
    except AccountError:
        abort(403, "That is not your password; a token needs your password to be created.")
    except PasswordGuessing as exc:
        raise TooManyRequests(str(exc), retry_after=exc.retry_after) from exc
    g.token_creation_allowed = True


@bp.route("/tokens/<int:token_id>")
class TokenItem(MethodView):
    @bp.response(200, TokenSchema)
    @problem_response(404, "No such token of yours")
    def get(self, token_id: int) -> Any:
        """Read one token's details."""
        return get_owned_token(api_owner(), token_id)

    @bp.response(204)
    @problem_response(404, "No such token of yours")
    def delete(self, token_id: int) -> Any:
        """Revoke a token: it stops working at once."""
        revoke_token(get_owned_token(api_owner(), token_id), ip=request.remote_addr)
        return "", 204


def _current_sid() -> str | None:
    """The login session making this call: a cookie call's; a token call has none."""
    return None if g.api_token is not None else api_user().login_sid


@bp.route("/sessions")
class SessionCollection(MethodView):
    @bp.response(200, SessionListSchema)
    def get(self) -> Any:
        """List your live login sessions, last seen first; "current" marks the one making a cookie call."""
        return {"items": active_sessions(api_owner(), _current_sid())}


@bp.route("/sessions/<int:session_id>")
class SessionItem(MethodView):
    @bp.response(204)
    @problem_response(404, "No such session of yours")
    @problem_response(409, "It is the session making this call: log out instead")
    def delete(self, session_id: int) -> Any:
        """End one of your login sessions: its next request is logged out."""
        end_user_session(api_user(), session_id, current_sid=_current_sid(), ip=request.remote_addr)
        return "", 204


@bp.route("/sessions/end-others")
class SessionsEndOthers(MethodView):
    @bp.response(200, SessionsEndedSchema)
    def post(self) -> Any:
        """Log out everywhere else: end every login session but the one making this call (every one, for a token)."""
        ended = end_other_sessions(api_user(), keep_sid=_current_sid(), ip=request.remote_addr)
        return {"sessions_ended": ended}
