"""The account pages: register, log in and out (``auth``), and the settings page (``account``):
login sessions, API tokens, password, export and import, account deletion."""

from __future__ import annotations

import time

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
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import Field

from ..domain import NotAllowed, RateLimited, RuleConflict
from ..extensions import login_manager
from ..http.forms import EmptyForm
from ..http.limits import body_limit
from ..http.security import is_safe_next
from ..notes.downloads import send_export
from ..notes.transfer import ImportError_, archive_limit, export_file, import_zip
from . import audit, twofactor
from .forms import (
    ChangePasswordForm,
    DeleteAccountForm,
    EnableTwoFactorForm,
    ForgotPasswordForm,
    ImportForm,
    LinkSsoForm,
    LoginCodeForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
    TokenForm,
    TwoFactorChangeForm,
    without_password,
)
from .invites import UNUSABLE, usable_invite
from .mail import NOT_SET_UP, is_set_up
from .models import User
from .resets import UNUSABLE as RESET_UNUSABLE
from .resets import ResetLinkUnusable, request_reset, reset_password, usable_reset
from .rules import registration_refusal
from .service import (
    AccountError,
    PasswordGuessing,
    SecondFactorNeeded,
    change_password,
    confirm_password,
    delete_user,
    log_in,
)
from .service import (
    register as register_account,
)
from .sessions import (
    active_sessions,
    end_other_sessions,
    end_session,
    end_user_session,
    load_session_user,
    start_session,
)
from .sso import CONFIRM_SECONDS, has_password, identities_of
from .throttle import DEVICE_COOKIE_LIFETIME, Client, device_cookie_value
from .tokens import create_token, get_owned_token, revoke_token, user_tokens

auth = Blueprint("auth", __name__, url_prefix="/auth")
account = Blueprint("account", __name__, url_prefix="/account")


def init_app(app: Flask) -> None:
    """Register both blueprints, and tell Flask-Login where to send anonymous visitors and how to load a user."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see this page."
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_user)
    app.register_blueprint(auth)
    app.register_blueprint(account)
    app.before_request(require_two_factor)


# Where an account without two-factor login may go while REQUIRE_2FA is on.
OPEN_WITHOUT_2FA = frozenset(
    {"static", "auth.logout", "auth.login", "auth.login_code", "account.two_factor", "account.two_factor_setup"}
    | {"account.two_factor_confirm", "health.healthz", "health.readyz"}
)
TWO_FACTOR_REQUIRED = "This server requires two-factor login. Set it up to go on."
# The session key holding the id of a login waiting for its code.
CHALLENGE_KEY = "2fa_challenge"
CHALLENGE_SSO_KEY = "2fa_after_sso"
# Set by app/accounts/sso_views.py when the provider has just logged this
# session's user in again: {"sid": login session, "at": epoch seconds}.
SSO_CONFIRMED_KEY = "sso_confirmed"


def require_two_factor() -> ResponseReturnValue | None:
    """With REQUIRE_2FA, a logged-in account without two-factor login is sent to set it up, and nowhere else."""
    if not current_app.config["REQUIRE_2FA"] or request.endpoint in OPEN_WITHOUT_2FA:
        return None
    if not current_user.is_authenticated or current_user.two_factor_enabled:
        return None
    if request.path.startswith("/api/"):
        abort(403, TWO_FACTOR_REQUIRED + " Do that on the Account page.")
    flash(TWO_FACTOR_REQUIRED, "info")
    return redirect(url_for("account.two_factor"))


def load_user(session_id: str) -> User | None:
    """Flask-Login's cookies carry a login session id (see User.get_id)."""
    return load_session_user(session_id)


def client_ip() -> str:
    """This request's client address (ProxyFix has put the real one here behind nginx)."""
    return request.remote_addr or "unknown"


def current_client() -> Client:
    """The client of this request, as the login throttle counts it."""
    # ProxyFix has already put the real client address here behind nginx.
    return Client(
        request.remote_addr or "unknown",
        request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"]),
    )


def _remember_device(response: BaseResponse, email: str) -> None:
    """Mark this browser as one that logged in to ``email`` (see app/accounts/throttle.py)."""
    cfg = current_app.config
    response.set_cookie(
        cfg["DEVICE_COOKIE_NAME"],
        device_cookie_value(email),
        max_age=int(DEVICE_COOKIE_LIFETIME.total_seconds()),
        secure=cfg.get("SESSION_COOKIE_SECURE", False),
        httponly=True,
        samesite="Lax",
        path=cfg["DEVICE_COOKIE_PATH"],
    )


def _next_url() -> str:
    """Where to go after logging in: ``next`` if same-site, else the notes list."""
    target = request.args.get("next") or request.form.get("next")
    return target if is_safe_next(target) else url_for("notes.index")


def _start_session(user: User, remember: bool = False) -> None:
    # A fresh session at login: whatever an attacker may have planted in the
    # visitor's session before (session fixation) is dropped.
    session.clear()
    start_session(user, remember=remember, user_agent=request.headers.get("User-Agent"), ip=request.remote_addr)
    login_user(user, remember=remember)
    # Without "remember me" the cookie lasts as long as the browser does.
    session.permanent = remember


def ask_for_code(
    user: User, *, remember: bool = False, next_url: str | None = None, sso_issuer: str | None = None
) -> ResponseReturnValue:
    """Not logged in yet: the browser holds only the id of a two-factor challenge that a code completes.

    For an account with two-factor login, after whatever proved the first
    factor: its password, or a login at the single sign-on provider
    ``sso_issuer`` (which the audit log then names).
    """
    session.clear()  # a fresh session, as at any login
    session[CHALLENGE_KEY] = twofactor.begin_challenge(user, remember=remember)
    if sso_issuer:
        session[CHALLENGE_SSO_KEY] = sso_issuer
    return redirect(url_for("auth.login_code", next=next_url if is_safe_next(next_url) else None))


@auth.route("/register", methods=["GET", "POST"])
def register() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("notes.index"))
    mode = current_app.config["REGISTRATION"]
    form = RegisterForm()
    if request.method == "GET":
        form.invite.data = request.args.get("invite", "")
    # Say why before anyone fills in the form: registration closed, no
    # invitation, or one that cannot be used any more.
    status = 200
    if not current_app.config["PASSWORD_LOGIN"]:
        # Single sign-on only: a password account would get around it.
        refusal: str | None = SSO_SIGNUP
    else:
        refusal = registration_refusal(mode, form.invite.data)
    if refusal is None and mode == "invite" and usable_invite(form.invite.data) is None:
        refusal, status = UNUSABLE, 409
    if refusal is not None:
        if request.method == "POST":
            status = 409 if status == 409 else 403
        return render_template("auth/register.html", form=None, refusal=refusal), status
    if form.validate_on_submit():
        try:
            user = register_account(
                form.email.data or "", form.password.data or "", mode=mode, invite=form.invite.data, ip=client_ip()
            )
        except AccountError as exc:
            getattr(form, exc.field).errors.append(str(exc))
        except (NotAllowed, RuleConflict) as exc:  # the invitation went in the meantime
            return render_template("auth/register.html", form=None, refusal=str(exc)), 409
        else:
            _start_session(user)
            flash("Welcome to Notes! Write your first note.", "success")
            return redirect(url_for("notes.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form, refusal=None), status


SSO_ONLY = "This server logs in with single sign-on. Use the button above."
SSO_SIGNUP = "Accounts on this server are made by logging in with single sign-on, not with a password."


@auth.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """The login page: single sign-on when configured, and the password form unless PASSWORD_LOGIN is off."""
    if current_user.is_authenticated:
        return redirect(_next_url())
    if not current_app.config["PASSWORD_LOGIN"]:
        if request.method == "POST":
            flash(SSO_ONLY, "error")
            return login_page(None, 403)
        return login_page(None)
    return _password_login(admins_only=False)


@auth.route("/login/password", methods=["GET", "POST"])
def password_login() -> ResponseReturnValue:
    """The password form at a path of its own: with PASSWORD_LOGIN off it stays, for administrators only,
    so that an administrator can always get in, whatever happens to the identity provider."""
    if current_user.is_authenticated:
        return redirect(_next_url())
    return _password_login(admins_only=not current_app.config["PASSWORD_LOGIN"])


def login_page(form: LoginForm | None, status: int = 200, headers: dict[str, str] | None = None) -> ResponseReturnValue:
    """The login page, with ``form`` (the password form) or without it, as the settings allow."""
    admins_only = form is not None and not current_app.config["PASSWORD_LOGIN"]
    page = render_template(
        "auth/login.html",
        form=form,
        next=request.args.get("next", ""),
        admins_only=admins_only,
        sso_enabled=bool(current_app.config.get("OIDC_ISSUER")),
        action="auth.password_login" if admins_only else "auth.login",
    )
    return page, status, headers or {}


def _password_login(*, admins_only: bool) -> ResponseReturnValue:
    form = LoginForm()
    status = 200
    headers: dict[str, str] = {}
    if form.validate_on_submit():
        email = form.email.data or ""
        try:
            user = log_in(email, form.password.data or "", current_client(), admins_only=admins_only)
        except PasswordGuessing as exc:
            minutes = max(1, round(exc.retry_after / 60))
            flash(f"Too many failed logins. Try again in about {minutes} minute{'s' if minutes > 1 else ''}.", "error")
            status, headers = 429, {"Retry-After": str(exc.retry_after)}
        except AccountError as exc:
            # One message for unknown email and wrong password alike.
            flash(str(exc), "error")
            status = 401
        except NotAllowed as exc:
            flash(str(exc), "error")
            status = 403
        except SecondFactorNeeded as exc:
            target = request.args.get("next") or request.form.get("next")
            return ask_for_code(exc.user, remember=bool(form.remember.data), next_url=target)
        else:
            _start_session(user, remember=bool(form.remember.data))
            response = redirect(_next_url())
            _remember_device(response, email)
            return response
    elif request.method == "POST":
        status = 400
    return login_page(form, status, headers)


def reset_link(secret: str) -> str:
    """The full address of the reset page for ``secret``, as a mail carries it.

    Built from the request's host: in production TRUSTED_HOSTS restricts it
    to the server's own names, so a forged Host header cannot redirect a link.
    """
    return url_for("auth.reset", token=secret, _external=True)


@auth.route("/forgot", methods=["GET", "POST"])
def forgot() -> ResponseReturnValue:
    """Ask for a password reset link: the same answer whether the address has an account or not."""
    if not is_set_up():
        return render_template("auth/forgot.html", form=None, refusal=NOT_SET_UP), (
            403 if request.method == "POST" else 200
        )
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            request_reset(form.email.data or "", client_ip(), reset_link)
        except AccountError as exc:
            form.email.errors = [str(exc)]
        except RateLimited as exc:
            form.email.errors = [str(exc)]
            page = render_template("auth/forgot.html", form=form, refusal=None)
            return page, 429, {"Retry-After": str(exc.retry_after)}
        else:
            return render_template("auth/forgot_sent.html")
    status = 400 if request.method == "POST" else 200
    return render_template("auth/forgot.html", form=form, refusal=None), status


@auth.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> ResponseReturnValue:
    """Choose a new password with the link from the mail: every session ends, and the API tokens unless kept."""
    if usable_reset(token) is None:
        return render_template("auth/reset.html", form=None, refusal=RESET_UNUSABLE), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            reset_password(token, form.password.data or "", revoke_tokens=bool(form.revoke_tokens.data), ip=client_ip())
        except ResetLinkUnusable as exc:  # used a moment ago, in another tab
            return render_template("auth/reset.html", form=None, refusal=str(exc)), 404
        except AccountError as exc:
            form.password.errors = [str(exc)]
        else:
            # The session this browser may have had ended with all the others.
            session.clear()
            logout_user()
            kept = "" if form.revoke_tokens.data else " Your API tokens still work."
            flash(f"Your password has been changed and every session logged out.{kept} Log in with it.", "success")
            return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/reset.html", form=form, refusal=None), status


@auth.route("/login/code", methods=["GET", "POST"])
def login_code() -> ResponseReturnValue:
    """The login's second step: the password was right, now the code."""
    if current_user.is_authenticated:
        return redirect(_next_url())
    challenge_id = session.get(CHALLENGE_KEY)
    if twofactor.find_challenge(challenge_id) is None:
        session.pop(CHALLENGE_KEY, None)
        flash(twofactor.EXPIRED, "info")
        return redirect(url_for("auth.login", next=request.args.get("next") or None))
    form = LoginCodeForm()
    status = 200
    headers: dict[str, str] = {}
    if form.validate_on_submit():
        client = current_client()
        try:
            user, remember = twofactor.complete_login(
                challenge_id, form.code.data or "", client, sso_issuer=session.get(CHALLENGE_SSO_KEY)
            )
        except PasswordGuessing as exc:
            form.code.errors = [str(exc).replace("wrong passwords", "wrong passwords or codes")]
            status, headers = 429, {"Retry-After": str(exc.retry_after)}
        except AccountError as exc:
            if exc.field != "code":  # the challenge is gone
                flash(str(exc), "info")
                return redirect(url_for("auth.login"))
            form.code.errors = [str(exc)]
            status = 401
        else:
            _start_session(user, remember=remember)
            response = redirect(_next_url())
            _remember_device(response, user.email)
            return response
    elif request.method == "POST":
        status = 400
    return render_template("auth/login_code.html", form=form, next=request.args.get("next", "")), status, headers


@auth.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    # The server forgets the session, so a copy of the cookie is worthless.
    end_session(current_user.login_sid)
    # Clear first: logout_user() leaves a note in the session that tells
    # Flask-Login to delete the "remember me" cookie, which clear() would drop.
    session.clear()
    logout_user()
    flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"))


def sso_confirmed_until() -> float | None:
    """When this session's confirmation with single sign-on stops standing in for a password, or None.

    Only for the login session that confirmed (a copied cookie of another
    session carries none), and only for CONFIRM_SECONDS.
    """
    proof = session.get(SSO_CONFIRMED_KEY)
    if not isinstance(proof, dict) or proof.get("sid") != current_user.login_sid:
        return None
    until = float(proof.get("at", 0)) + CONFIRM_SECONDS
    return until if time.time() < until else None


def sso_confirmed() -> bool:
    return sso_confirmed_until() is not None


def _proof_context() -> dict[str, object]:
    """What the forms that ask for the password show instead when the account has none (``proof`` in _form.html)."""
    until = sso_confirmed_until()
    return {
        "has_password": has_password(current_user),
        "sso_confirmed_until": time.strftime("%H:%M", time.gmtime(until)) if until else None,
    }


def _for_account(form: FlaskForm, name: str = "password") -> FlaskForm:
    """``form`` as the current user fills it in: without a password to type when the account has none."""
    return form if has_password(current_user) else without_password(form, name)


def _settings(status: int = 200, **forms: object) -> ResponseReturnValue:
    identities = identities_of(current_user)
    context = {
        "token_form": TokenForm(formdata=None),
        "password_form": ChangePasswordForm(formdata=None),
        "delete_form": DeleteAccountForm(formdata=None),
        "import_form": ImportForm(formdata=None),
        "link_form": LinkSsoForm(formdata=None),
        "action_form": EmptyForm(),
        "tokens": user_tokens(current_user),
        "two_factor_on": current_user.two_factor_enabled,
        "sessions": active_sessions(current_user, current_user.login_sid),
        "new_secret": None,
        "events": audit.events_about(current_user),
        "describe": audit.describe,
        "sso_enabled": bool(current_app.config.get("OIDC_ISSUER")),
        "sso_identities": identities,
        # An account without a password keeps at least one identity.
        "sso_can_unlink": has_password(current_user) or len(identities) > 1,
        **_proof_context(),
    }
    context.update(forms)
    if current_user.is_admin:
        context["token_form"].offer_admin_scope()  # type: ignore[attr-defined]
    return render_template("account/settings.html", **context), status


def _too_many_guesses(exc: PasswordGuessing, field: Field, **forms: object) -> ResponseReturnValue:
    """The settings page with a 429 and Retry-After: this client guessed the password too often."""
    field.errors = [str(exc)]
    response = make_response(_settings(429, **forms))
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


@account.get("/")
@login_required
def settings() -> ResponseReturnValue:
    return _settings()


@account.post("/tokens")
@login_required
def create_api_token() -> ResponseReturnValue:
    form = _for_account(TokenForm())
    if current_user.is_admin:
        form.offer_admin_scope()
    if not form.validate_on_submit():
        return _settings(400, token_form=form)
    try:
        confirm_password(current_user, form.password.data or "", current_client(), sso_confirmed=sso_confirmed())
    except AccountError as exc:
        form.password.errors = [str(exc)]
        return _settings(403, token_form=form)
    except PasswordGuessing as exc:
        return _too_many_guesses(exc, form.password, token_form=form)
    if current_user.two_factor_enabled:
        try:
            twofactor.check_second_factor(current_user, form.code.data or "", current_client())
        except AccountError as exc:
            form.code.errors = [str(exc)]
            return _settings(403, token_form=form)
        except PasswordGuessing as exc:
            return _too_many_guesses(exc, form.code, token_form=form)
    token, secret = create_token(
        current_user, form.name.data or "", form.scope.data or "write", form.expires_in_days.data, ip=client_ip()
    )
    flash(f"Token “{token.name}” created. Copy it now: it will not be shown again.", "success")
    # Rendered rather than redirected: the secret must never sit in a URL,
    # the session or a flash message stored in a cookie.
    return _settings(201, new_secret=secret)


@account.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_api_token(token_id: int) -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    token = get_owned_token(current_user, token_id)
    revoke_token(token, ip=client_ip())
    flash(f"Token “{token.name}” revoked. Programs using it can no longer sign in.", "info")
    return redirect(url_for("account.settings"))


@account.post("/password")
@login_required
def password() -> ResponseReturnValue:
    form = _for_account(ChangePasswordForm(), "current_password")
    if not form.validate_on_submit():
        return _settings(400, password_form=form)
    try:
        changed = change_password(
            current_user,
            form.current_password.data or "",
            form.new_password.data or "",
            current_client(),
            revoke_tokens=bool(form.revoke_tokens.data),
            sso_confirmed=sso_confirmed(),
        )
    except AccountError as exc:
        getattr(form, exc.field).errors = [str(exc)]
        return _settings(400, password_form=form)
    except PasswordGuessing as exc:
        return _too_many_guesses(exc, form.current_password, password_form=form)
    message = "Your password has been changed. Every other session has been logged out"
    if form.revoke_tokens.data:
        count = changed.tokens_revoked
        message += f", and {count} API token{' was' if count == 1 else 's were'} revoked"
    flash(message + ".", "success")
    return redirect(url_for("account.settings"))


@account.post("/sessions/<int:session_id>/end")
@login_required
def end_login_session(session_id: int) -> ResponseReturnValue:
    """End another of the user's login sessions: its next request is logged out."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    device = end_user_session(current_user, session_id, current_sid=current_user.login_sid, ip=client_ip())
    flash(f"Session ended: {device}. It is logged out.", "info")
    return redirect(url_for("account.settings"))


@account.post("/sessions/end-others")
@login_required
def end_other_login_sessions() -> ResponseReturnValue:
    """Log out everywhere else: every session of the user but this one."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    ended = end_other_sessions(current_user, keep_sid=current_user.login_sid, ip=client_ip())
    flash(f"Logged out everywhere else ({ended} session{'' if ended == 1 else 's'} ended).", "info")
    return redirect(url_for("account.settings"))


@account.post("/delete")
@login_required
def delete() -> ResponseReturnValue:
    form = _for_account(DeleteAccountForm())
    if not form.validate_on_submit():
        return _settings(400, delete_form=form)
    try:
        delete_user(
            current_user._get_current_object(),
            form.password.data or "",
            current_client(),
            sso_confirmed=sso_confirmed(),
        )
    except AccountError as exc:
        form.password.errors = [str(exc)]
        return _settings(400, delete_form=form)
    except PasswordGuessing as exc:
        return _too_many_guesses(exc, form.password, delete_form=form)
    except RuleConflict as exc:  # the last administrator
        form.password.errors = [str(exc)]
        return _settings(409, delete_form=form)
    # Clear first so that logout_user() can ask Flask-Login to delete the
    # "remember me" cookie (see logout).
    session.clear()
    logout_user()
    flash("Your account and all its notes have been deleted.", "info")
    return redirect(url_for("auth.register"))


@account.get("/export")
@login_required
def export() -> ResponseReturnValue:
    """Download every note as a zip (Markdown files plus notes.json)."""
    return send_export(export_file(current_user))


@account.post("/import")
@login_required
@body_limit(archive_limit)  # the one form that uploads a whole notebook
def import_notes() -> ResponseReturnValue:
    form = ImportForm()
    if not form.validate_on_submit():
        return _settings(400, import_form=form)
    try:
        # The form's file as werkzeug kept it (on disk when large), never read into memory here.
        result = import_zip(current_user, form.archive.data.stream)
    except ImportError_ as exc:
        form.archive.errors = [str(exc)]
        return _settings(400, import_form=form)
    flash(f"Imported {result.count} note{'s' if result.count != 1 else ''} from {result.source}.", "success")
    if result.skipped:
        shown = "; ".join(result.skipped[:10])
        more = f"; and {len(result.skipped) - 10} more" if len(result.skipped) > 10 else ""
        flash(f"Left out: {shown}{more}.", "info")
    return redirect(url_for("notes.index"))


# --- two-factor login ------------------------------------------------------------


def _two_factor_page(status: int = 200, **context: object) -> ResponseReturnValue:
    user = current_user._get_current_object()
    values: dict[str, object] = {
        "enrolment": twofactor.pending_enrolment(user),
        "enable_form": EnableTwoFactorForm(formdata=None),
        "change_form": TwoFactorChangeForm(formdata=None),
        "action_form": EmptyForm(),
        "recovery_codes": None,
        "codes_left": twofactor.recovery_codes_left(user) if user.two_factor_enabled else 0,
        **_proof_context(),
    }
    values.update(context)
    return render_template("account/two_factor.html", **values), status


@account.get("/2fa")
@login_required
def two_factor() -> ResponseReturnValue:
    return _two_factor_page()


@account.post("/2fa/setup")
@login_required
def two_factor_setup() -> ResponseReturnValue:
    """A new secret to scan; two-factor login stays off until a code confirms it."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        twofactor.start_enrolment(current_user._get_current_object())
    except AccountError as exc:
        flash(str(exc), "info")
    return redirect(url_for("account.two_factor"))


@account.post("/2fa/confirm")
@login_required
def two_factor_confirm() -> ResponseReturnValue:
    form = _for_account(EnableTwoFactorForm())
    if not form.validate_on_submit():
        return _two_factor_page(400, enable_form=form)
    try:
        codes = twofactor.confirm_enrolment(
            current_user._get_current_object(),
            form.password.data or "",
            form.code.data or "",
            current_client(),
            sso_confirmed=sso_confirmed(),
        )
    except AccountError as exc:
        (form.password if exc.field == "password" else form.code).errors = [str(exc)]
        return _two_factor_page(403 if exc.field == "password" else 400, enable_form=form)
    except PasswordGuessing as exc:
        form.code.errors = [str(exc)]
        response = make_response(_two_factor_page(429, enable_form=form))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    flash("Two-factor login is on. Save your recovery codes now: they will not be shown again.", "success")
    # Rendered, not redirected: the codes must never sit in a URL, the session or a flash message.
    return _two_factor_page(201, recovery_codes=codes)


def _change_two_factor(action: str) -> ResponseReturnValue:
    form = _for_account(TwoFactorChangeForm())
    if not form.validate_on_submit():
        return _two_factor_page(400, change_form=form)
    user = current_user._get_current_object()
    proven = sso_confirmed()
    try:
        if action == "disable":
            twofactor.disable(
                user, form.password.data or "", form.code.data or "", current_client(), sso_confirmed=proven
            )
        else:
            codes = twofactor.regenerate_recovery_codes(
                user, form.password.data or "", form.code.data or "", current_client(), sso_confirmed=proven
            )
    except AccountError as exc:
        field = form.code if exc.field == "code" else form.password
        field.errors = [str(exc)]
        return _two_factor_page(403, change_form=form)
    except PasswordGuessing as exc:
        form.code.errors = [str(exc)]
        response = make_response(_two_factor_page(429, change_form=form))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if action == "disable":
        flash("Two-factor login is off. Your recovery codes no longer work.", "info")
        return redirect(url_for("account.settings"))
    flash("New recovery codes made; the old ones no longer work. Save these now.", "success")
    return _two_factor_page(201, recovery_codes=codes)


@account.post("/2fa/disable")
@login_required
def two_factor_disable() -> ResponseReturnValue:
    return _change_two_factor("disable")


@account.post("/2fa/recovery-codes")
@login_required
def two_factor_recovery_codes() -> ResponseReturnValue:
    return _change_two_factor("regenerate")
