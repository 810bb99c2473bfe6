"""Single sign-on pages (``sso``): log in with the OpenID Connect provider,
link an identity to an account that a person proves, unlink one.

The protocol is Authlib's Flask client (app/extensions.py ``sso``): the
provider's discovery document, the authorization code flow with PKCE (S256),
``state`` and ``nonce`` kept in the signed session, and the ID token checked
against the provider's JWKS, the configured issuer, this client's id as
audience, its expiry and the nonce. Which account an identity opens is
``app.accounts.sso``'s business.
"""

from __future__ import annotations

import time
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from joserfc.errors import JoseError

from ..domain import NotAllowed, RuleConflict
from ..extensions import sso as sso_client
from ..http.forms import EmptyForm
from ..http.security import is_safe_next
from . import sso, twofactor
from .forms import ConfirmLinkForm, LinkSsoForm
from .service import AccountError, PasswordGuessing, confirm_password
from .views import (
    SSO_CONFIRMED_KEY,
    _for_account,
    _settings,
    _start_session,
    ask_for_code,
    client_ip,
    current_client,
    login_page,
    sso_confirmed,
)

bp = Blueprint("sso", __name__)

# How far a clock may drift between the provider and this server, in seconds.
LEEWAY = 60
# How long a person has to prove an account after the provider named its email.
LINK_WINDOW_SECONDS = 600
DENIED = "The login was cancelled or refused at the identity provider. Nobody was logged in."
BROKEN = (
    "The login with the identity provider could not be completed: its answer did not check out. "
    "Nobody was logged in. Try again."
)
LINK_NEEDS_BOTH_FACTORS = (
    "This account uses two-factor login, so single sign-on cannot be linked with the password alone. "
    "Log in with your password and code, then link it from the Account page."
)
STALE = "The login could not be completed: it was started in another tab or took too long. Try again."
UNREACHABLE = "The identity provider could not be reached. Try again in a moment."


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _client():  # type: ignore[no-untyped-def]
    client = sso_client.client()
    if client is None:
        abort(404)
    return client


def _claims_options() -> dict[str, Any]:
    """What the ID token must say, beyond Authlib's checks of audience, expiry, issued-at and nonce."""
    return {
        "iss": {"essential": True, "value": current_app.config["OIDC_ISSUER"]},
        "sub": {"essential": True},
        "aud": {"essential": True, "value": current_app.config["OIDC_CLIENT_ID"]},
        "exp": {"essential": True},
        "nonce": {"essential": True},
    }


def _redirect_to_provider(pending: dict[str, Any], **params: str) -> ResponseReturnValue:
    """Send the browser to the provider, remembering why (``pending``) for the callback;
    ``params`` go into the authorization request (e.g. prompt=login)."""
    client = _client()
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError):
        current_app.logger.warning("sso: the discovery document could not be read", exc_info=True)
        flash(UNREACHABLE, "error")
        return login_page(None, 502)
    # OpenID Connect Discovery 1.0, 4.3: the document must name the issuer we were configured with.
    if metadata.get("issuer") != current_app.config["OIDC_ISSUER"]:
        current_app.logger.error("sso: the discovery document names issuer %r", metadata.get("issuer"))
        sso.record_failure("the discovery document names another issuer", ip=client_ip())
        flash(BROKEN, "error")
        return login_page(None, 502)
    session["sso"] = pending
    return client.authorize_redirect(url_for("sso.callback", _external=True), **params)


@bp.get("/auth/oidc/login")
def start() -> ResponseReturnValue:
    """Log in (or sign up, with ``invite``) through the provider."""
    target = request.args.get("next")
    invite = request.args.get("invite", "")[:100]
    return _redirect_to_provider(
        {"intent": "login", "next": target if is_safe_next(target) else "", "invite": invite or None}
    )


@bp.post("/account/sso/link")
@login_required
def start_link() -> ResponseReturnValue:
    """Link another identity to the logged-in account.

    An identity is a lasting way in, so the session alone does not prove
    enough (a borrowed browser, a stolen cookie): the password, and a code
    with two-factor login on, as for a new API token.
    """
    form = _for_account(LinkSsoForm())
    if not form.validate_on_submit():
        return _settings(400, link_form=form)
    client = current_client()
    try:
        confirm_password(current_user, form.password.data or "", client, sso_confirmed=sso_confirmed())
        if current_user.two_factor_enabled:
            twofactor.check_second_factor(current_user, form.code.data or "", client)
    except AccountError as exc:
        getattr(form, exc.field if exc.field in ("password", "code") else "password").errors = [str(exc)]
        return _settings(403, link_form=form)
    except PasswordGuessing as exc:
        form.password.errors = [str(exc)]
        page = make_response(_settings(429, link_form=form))
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    return _redirect_to_provider({"intent": "link", "user": current_user.id})


@bp.post("/account/sso/confirm")
@login_required
def start_confirm() -> ResponseReturnValue:
    """Confirm it is you at the provider, for an account without a password: back here, that stands in
    for the password the account page's sensitive changes ask for, for a few minutes.

    ``prompt=login`` asks the provider to log the person in again rather than
    answer from its own session; ``auth_time``, when it sends one, is checked too.
    """
    if not EmptyForm().validate_on_submit():
        abort(400)
    if sso.has_password(current_user):
        flash(sso.HAS_PASSWORD, "info")
        return _settings(409)
    return _redirect_to_provider(
        {"intent": "confirm", "user": current_user.id, "sid": current_user.login_sid}, prompt="login"
    )


def _finish_confirm(identity: sso.Identity, pending: dict[str, Any], auth_time: object) -> ResponseReturnValue:
    if (
        not current_user.is_authenticated
        or current_user.id != pending.get("user")
        or current_user.login_sid != pending.get("sid")
    ):
        return _failed(STALE, 400, "confirmation finished by another session")
    try:
        sso.confirm(current_user, identity, auth_time=auth_time, ip=client_ip())
    except NotAllowed as exc:
        flash(str(exc), "error")
        return _settings(403)
    session[SSO_CONFIRMED_KEY] = {"sid": current_user.login_sid, "at": time.time()}
    flash("Confirmed: for a few minutes, changes on this page need no password.", "success")
    return redirect(url_for("account.settings"))


def _failed(message: str, status: int, reason: str) -> ResponseReturnValue:
    sso.record_failure(reason, ip=client_ip())
    flash(message, "error")
    if current_user.is_authenticated:  # linking or confirming: back to the account page
        return _settings(status)
    return login_page(None, status)


@bp.get("/auth/oidc/callback")
def callback() -> ResponseReturnValue:
    client = _client()
    pending = session.pop("sso", None) or {}
    error = request.args.get("error")
    if error:
        # The provider's answer, e.g. access_denied when the person said no.
        return _failed(DENIED, 403, f"the provider answered {error[:40]}")
    try:
        token = client.authorize_access_token(claims_options=_claims_options(), leeway=LEEWAY)
    except MismatchingStateError:
        return _failed(STALE, 400, "state did not match")
    except OAuthError as exc:
        return _failed(BROKEN, 400, f"token request refused: {exc.error}"[:120])
    except (JoseError, AuthlibBaseError) as exc:  # the ID token: signature, issuer, audience, expiry, nonce
        current_app.logger.warning("sso: ID token refused: %s", exc)
        return _failed(BROKEN, 400, f"ID token refused: {getattr(exc, 'error', '')} {exc}"[:120])
    except requests.RequestException:
        current_app.logger.warning("sso: the provider could not be reached", exc_info=True)
        flash(UNREACHABLE, "error")
        return login_page(None, 502)
    claims = token.get("userinfo")
    if not claims:
        return _failed(BROKEN, 400, "no ID token")
    try:
        identity = sso.Identity.from_claims(dict(claims))
    except AccountError as exc:
        return _failed(str(exc), 400, "unusable claims")
    if pending.get("intent") == "link":
        return _finish_link(identity, pending)
    if pending.get("intent") == "confirm":
        return _finish_confirm(identity, pending, claims.get("auth_time"))
    return _finish_login(identity, pending)


def _finish_login(identity: sso.Identity, pending: dict[str, Any]) -> ResponseReturnValue:
    cfg = current_app.config
    try:
        user, created = sso.log_in(
            identity,
            mode=cfg["REGISTRATION"],
            auto_create=cfg["OIDC_AUTO_CREATE"],
            invite=pending.get("invite"),
            ip=client_ip(),
        )
    except sso.LinkNeeded as exc:
        session["sso_link"] = {
            "issuer": identity.issuer,
            "subject": identity.subject,
            "email": identity.email,
            "user": exc.user.id,
            "at": time.time(),
            "next": pending.get("next") or "",
        }
        return redirect(url_for("sso.confirm"))
    except NotAllowed as exc:
        flash(str(exc), "error")
        return login_page(None, 403)
    except (RuleConflict, AccountError) as exc:
        flash(str(exc), "error")
        return login_page(None, 409 if isinstance(exc, RuleConflict) else 400)
    if user.two_factor_enabled:
        # The provider proved the first factor; the account's own second one still applies.
        return ask_for_code(user, next_url=pending.get("next"), sso_issuer=identity.issuer)
    _start_session(user)
    if created:
        flash("Welcome to Notes! Write your first note.", "success")
    return redirect(pending.get("next") or url_for("notes.index"))


def _finish_link(identity: sso.Identity, pending: dict[str, Any]) -> ResponseReturnValue:
    if not current_user.is_authenticated or current_user.id != pending.get("user"):
        return _failed(STALE, 400, "link finished by another session")
    try:
        sso.link(current_user, identity, ip=client_ip())
    except (RuleConflict, NotAllowed) as exc:
        flash(str(exc), "error")
        return _settings(409)
    flash("Single sign-on is linked: you can now log in with it.", "success")
    return redirect(url_for("account.settings"))


@bp.route("/auth/oidc/link", methods=["GET", "POST"])
def confirm() -> ResponseReturnValue:
    """The identity's email belongs to an account that is not linked to it: its password proves it is yours."""
    pending = session.get("sso_link")
    user = sso.account(pending["user"]) if pending else None
    if not pending or user is None or time.time() - pending.get("at", 0) > LINK_WINDOW_SECONDS:
        session.pop("sso_link", None)
        flash(STALE, "error")
        return redirect(url_for("auth.login"))
    identity = sso.Identity(pending["issuer"], pending["subject"], pending["email"])
    form = ConfirmLinkForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        try:
            confirm_password(user, form.password.data or "", current_client())
            if user.two_factor_enabled:
                # Linking here would attach a way in before the second factor was given.
                raise NotAllowed(LINK_NEEDS_BOTH_FACTORS)
            sso.link(user, identity, ip=client_ip())
            user, _ = sso.log_in(identity, mode="closed", auto_create=False, ip=client_ip())
        except AccountError as exc:
            form.password.errors = [str(exc)]
            status = 401
        except PasswordGuessing as exc:
            form.password.errors = [str(exc)]
            status, headers = 429, {"Retry-After": str(exc.retry_after)}
        except (NotAllowed, RuleConflict) as exc:
            session.pop("sso_link", None)
            flash(str(exc), "error")
            return login_page(None, 403)
        else:
            _start_session(user)
            flash("Single sign-on is linked to your account: next time the button is enough.", "success")
            return redirect(pending.get("next") or url_for("notes.index"))
    elif request.method == "POST":
        status = 400
    page = render_template("auth/sso_link.html", form=form, email=user.email, issuer=identity.issuer)
    return page, status, headers


@bp.post("/account/sso/<int:identity_id>/unlink")
@login_required
def unlink(identity_id: int) -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        row = sso.unlink(current_user, identity_id, ip=client_ip())
    except RuleConflict as exc:
        flash(str(exc), "error")
        return _settings(409)
    flash(f"Single sign-on through {row.issuer} is unlinked.", "info")
    return redirect(url_for("account.settings"))
