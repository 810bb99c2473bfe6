"""The accounts API: /api/v1/tokens (personal API tokens), /api/v1/sessions (the login
sessions a user can end), /api/v1/account (who the caller is), /api/v1/password-resets
(a forgotten password)."""

from __future__ import annotations

from typing import Any

from flask import abort, g, request, url_for
from flask.views import MethodView
from werkzeug.exceptions import TooManyRequests

from ..api.auth import api_owner, api_user, public
from ..api.blueprint import bp
from ..api.docs import id_links, problem_response
from ..api.idempotency import IDEMPOTENCY_KEY, IDEMPOTENCY_LOST, deferred, idempotent_after
from ..domain import RateLimited
from ..http import jsonbody
from . import twofactor
from .resets import request_reset, reset_password
from .schemas import (
    AccountSchema,
    PasswordResetAcceptedSchema,
    PasswordResetRequestSchema,
    PasswordResetSchema,
    SessionListSchema,
    SessionsEndedSchema,
    TokenCreatedSchema,
    TokenCreateSchema,
    TokenListSchema,
    TokenSchema,
)
from .service import AccountError, PasswordGuessing, confirm_password
from .sessions import active_sessions, end_other_sessions, end_user_session
from .sso import has_password
from .tokens import create_token, get_owned_token, revoke_token, user_tokens
from .views import current_client, reset_link, sso_confirmed

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
        "the account has two-factor login on and `code` is missing, wrong or already used, "
        "or the admin scope was asked for by a non-administrator",
    )
    @problem_response(429, "Too many wrong passwords or codes from this client; see Retry-After")
    def post(self, data: dict[str, Any]) -> Any:
        """Create a token, from a browser session and with your password. The secret is in this response only.

        A token cannot create tokens: one stolen token must not be able to
        mint others that outlive its revocation.
        """
        _may_create_tokens(password=data["password"], code=data["code"])
        user = api_user()
        token, secret = create_token(
            user, data["name"], data["scope"], data["expires_in_days"], commit=not deferred(), ip=request.remote_addr
        )
        body = {name: getattr(token, name) for name in TokenSchema().fields} | {"token": secret}
        return body, 201, {"Location": url_for("api.TokenItem", token_id=token.id, _external=True)}


def _may_create_tokens(*, password: str | None = None, code: str | None = None, checked_body: bool = True) -> None:
    """Abort unless this caller may create a token: from a session, never a token, with the right password,
    and with a code when the account has two-factor login on.

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
        code = body.get("code") if isinstance(body.get("code"), str) else None
    user = api_user()
    client = current_client()
    try:
        # A logged-in browser (a token cannot get here) may have confirmed with single sign-on.
        confirm_password(user, password or "", client, sso_confirmed=sso_confirmed())
        if user.two_factor_enabled:
            if not code:
                abort(403, NO_CODE)
            twofactor.check_second_factor(user, code, client)
    except AccountError as exc:
        if exc.field == "code":
            abort(403, f"{exc} Your account has two-factor login on: a token needs a current code too.")
        if not has_password(user):
            abort(403, str(exc))
        abort(403, "That is not your password; a token needs your password to be created.")
    except PasswordGuessing as exc:
        raise TooManyRequests(str(exc), retry_after=exc.retry_after) from exc
    g.token_creation_allowed = True


NO_CODE = (
    "Your account has two-factor login on: send a current code from your authenticator app "
    "(or a recovery code) as `code` with your password."
)


@bp.route("/account")
class AccountItem(MethodView):
    @bp.response(200, AccountSchema)
    def get(self) -> Any:
        """Who you are: your account's email, role, and whether it logs in with a second factor."""
        user = api_user()
        return {"id": user.id, "email": user.email, "is_admin": user.is_admin, "two_factor": user.two_factor_enabled}


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


# --- /api/v1/password-resets: for people who cannot log in -------------------

RESET_ACCEPTED = "If an account has this email address, a link to reset its password has been sent to it."


@bp.route("/password-resets")
class PasswordResetCollection(MethodView):
    @public
    @bp.arguments(PasswordResetRequestSchema)
    @bp.response(202, PasswordResetAcceptedSchema)
    @bp.doc(security=[])
    @problem_response(403, "This server sends no mail: password reset by email is not set up; ask an administrator")
    @problem_response(429, "Too many reset requests for this address or from this client; see Retry-After")
    def post(self, data: dict[str, Any]) -> Any:
        """Ask for a password reset link by email. No login needed.

        The answer is the same for every address, with an account or not, so
        it tells nobody who has one. Requests are limited per address and per
        client. The link leads to the reset page; a client may also use its
        secret (the last part of the link) with `POST /password-resets/{token}`.
        """
        try:
            request_reset(data["email"], request.remote_addr or "unknown", reset_link)
        except AccountError as exc:
            abort(422, str(exc))
        except RateLimited as exc:
            raise TooManyRequests(str(exc), retry_after=exc.retry_after) from exc
        return {"detail": RESET_ACCEPTED}, 202


@bp.route("/password-resets/<token>")
class PasswordResetItem(MethodView):
    @public
    @bp.arguments(PasswordResetSchema)
    @bp.response(204)
    @bp.doc(security=[])
    @problem_response(
        404,
        "The link cannot be used: unknown, used, expired, made before the password last changed, "
        "or of a disabled account. Nothing was changed",
    )
    def post(self, data: dict[str, Any], token: str) -> Any:
        """Set a new password with the secret of a reset link. No login needed.

        The link works once. Every login session of the account ends; its API
        tokens are revoked too unless `revoke_tokens` is false. A password the
        policy refuses is a 422 and changes nothing.
        """
        try:
            reset_password(token, data["password"], revoke_tokens=data["revoke_tokens"], ip=request.remote_addr)
        except AccountError as exc:
            abort(422, str(exc))
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
