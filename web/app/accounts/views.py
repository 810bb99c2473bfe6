"""The account pages: register, log in and out (``auth``), and the settings page (``account``):
login sessions, API tokens, password, export and import, account deletion."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    Response,
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
from werkzeug.wrappers import Response as BaseResponse
from wtforms import Field

from ..domain import NotAllowed, RuleConflict
from ..extensions import login_manager
from ..http.forms import EmptyForm
from ..http.limits import body_limit
from ..http.security import is_safe_next
from ..notes.transfer import MAX_ARCHIVE_BYTES, ImportError_, export_zip, import_zip
from . import audit
from .forms import ChangePasswordForm, DeleteAccountForm, ImportForm, LoginForm, RegisterForm, TokenForm
from .invites import UNUSABLE, usable_invite
from .models import User
from .service import (
    INVITE_NEEDED,
    REGISTRATION_CLOSED,
    AccountError,
    PasswordGuessing,
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
        path="/auth/",
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
    refusal, status = None, 200
    if mode == "closed":
        refusal = REGISTRATION_CLOSED
    elif mode == "invite" and not form.invite.data:
        refusal = INVITE_NEEDED
    elif mode == "invite" and usable_invite(form.invite.data) is None:
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


@auth.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = LoginForm()
    status = 200
    headers: dict[str, str] = {}
    if form.validate_on_submit():
        email = form.email.data or ""
        try:
            user = log_in(email, form.password.data or "", current_client())
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
        else:
            _start_session(user, remember=bool(form.remember.data))
            response = redirect(_next_url())
            _remember_device(response, email)
            return response
    elif request.method == "POST":
        status = 400
    page = render_template("auth/login.html", form=form, next=request.args.get("next", ""))
    return page, status, headers


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


def _settings(status: int = 200, **forms: object) -> ResponseReturnValue:
    context = {
        "token_form": TokenForm(formdata=None),
        "password_form": ChangePasswordForm(formdata=None),
        "delete_form": DeleteAccountForm(formdata=None),
        "import_form": ImportForm(formdata=None),
        "action_form": EmptyForm(),
        "tokens": user_tokens(current_user),
        "sessions": active_sessions(current_user, current_user.login_sid),
        "new_secret": None,
        "events": audit.events_about(current_user),
        "describe": audit.describe,
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
    form = TokenForm()
    if current_user.is_admin:
        form.offer_admin_scope()
    if not form.validate_on_submit():
        return _settings(400, token_form=form)
    try:
        confirm_password(current_user, form.password.data or "", current_client())
    except AccountError as exc:
        form.password.errors = [str(exc)]
        return _settings(403, token_form=form)
    except PasswordGuessing as exc:
        return _too_many_guesses(exc, form.password, token_form=form)
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
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _settings(400, password_form=form)
    try:
        changed = change_password(
            current_user,
            form.current_password.data or "",
            form.new_password.data or "",
            current_client(),
            revoke_tokens=bool(form.revoke_tokens.data),
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
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return _settings(400, delete_form=form)
    try:
        delete_user(current_user._get_current_object(), form.password.data or "", current_client())
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
    return Response(
        export_zip(current_user),
        mimetype="application/zip",
        headers={"Content-Disposition": 'attachment; filename="notes-export.zip"'},
    )


@account.post("/import")
@login_required
@body_limit(lambda: MAX_ARCHIVE_BYTES)  # the one form that uploads a whole notebook
def import_notes() -> ResponseReturnValue:
    form = ImportForm()
    if not form.validate_on_submit():
        return _settings(400, import_form=form)
    try:
        result = import_zip(current_user, form.archive.data.read(MAX_ARCHIVE_BYTES + 1))
    except ImportError_ as exc:
        form.archive.errors = [str(exc)]
        return _settings(400, import_form=form)
    flash(f"Imported {result.count} note{'s' if result.count != 1 else ''}.", "success")
    return redirect(url_for("notes.index"))
