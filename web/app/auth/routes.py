from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user

from ..accounts import AccountError, authenticate, create_user
from ..extensions import login_manager
from ..models import User
from ..security import is_safe_next
from ..sessions import end_session, load_session_user, start_session
from ..throttle import clear_failures, issue_device_cookie, record_failure, retry_after
from . import bp
from .forms import LoginForm, RegisterForm

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see this page."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Flask-Login's cookies carry a login session id (see User.get_id)."""
    return load_session_user(session_id)


def _next_url() -> str:
    """Where to go after logging in: ``next`` if same-site, else the notes list."""
    target = request.args.get("next") or request.form.get("next")
    return target if is_safe_next(target) else url_for("notes.index")


def _start_session(user: User, remember: bool = False) -> None:
    # A fresh session at login: whatever an attacker may have planted in the
    # visitor's session before (session fixation) is dropped.
    session.clear()
    start_session(user, remember=remember)
    login_user(user, remember=remember)
    # Without "remember me" the cookie lasts as long as the browser does.
    session.permanent = remember


@bp.route("/register", methods=["GET", "POST"])
def register() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("notes.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = create_user(form.email.data or "", form.password.data or "")
        except AccountError as exc:
            getattr(form, exc.field).errors.append(str(exc))
        else:
            _start_session(user)
            flash("Welcome to Notes! Write your first note.", "success")
            return redirect(url_for("notes.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = LoginForm()
    status = 200
    headers: dict[str, str] = {}
    if form.validate_on_submit():
        email = form.email.data or ""
        wait = retry_after(email)
        if wait is not None:
            minutes = max(1, round(wait / 60))
            flash(f"Too many failed logins. Try again in about {minutes} minute{'s' if minutes > 1 else ''}.", "error")
            status, headers = 429, {"Retry-After": str(wait)}
        else:
            user = authenticate(email, form.password.data or "")
            if user is not None:
                clear_failures(email)
                _start_session(user, remember=bool(form.remember.data))
                response = redirect(_next_url())
                issue_device_cookie(response, email)
                return response
            record_failure(email)
            # One message for unknown email and wrong password alike.
            flash("Invalid email or password.", "error")
            status = 401
    elif request.method == "POST":
        status = 400
    page = render_template("auth/login.html", form=form, next=request.args.get("next", ""))
    return page, status, headers


@bp.post("/logout")
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
