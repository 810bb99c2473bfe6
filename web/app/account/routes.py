from __future__ import annotations

from flask import Response, abort, flash, make_response, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, logout_user

from ..accounts import AccountError, PasswordGuessing, change_password, confirm_password, delete_user
from ..notes.transfer import MAX_ARCHIVE_BYTES, ImportError_, export_zip, import_zip
from ..tokens import create_token, get_user_token, revoke_token, user_tokens
from . import bp
from .forms import ChangePasswordForm, DeleteAccountForm, EmptyForm, ImportForm, TokenForm


def _settings(status: int = 200, **forms: object) -> ResponseReturnValue:
    context = {
        "token_form": TokenForm(formdata=None),
        "password_form": ChangePasswordForm(formdata=None),
        "delete_form": DeleteAccountForm(formdata=None),
        "import_form": ImportForm(formdata=None),
        "action_form": EmptyForm(),
        "tokens": user_tokens(current_user),
        "new_secret": None,
    }
    context.update(forms)
    return render_template("account/settings.html", **context), status


@bp.get("/")
@login_required
def settings() -> ResponseReturnValue:
    return _settings()


@bp.post("/tokens")
@login_required
def create_api_token() -> ResponseReturnValue:
    form = TokenForm()
    if not form.validate_on_submit():
        return _settings(400, token_form=form)
    try:
        confirm_password(current_user, form.password.data or "")
    except AccountError as exc:
        form.password.errors = [str(exc)]
        return _settings(403, token_form=form)
    except PasswordGuessing as exc:
        form.password.errors = [str(exc)]
        response = make_response(_settings(429, token_form=form))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    token, secret = create_token(
        current_user, form.name.data or "", form.scope.data or "write", form.expires_in_days.data
    )
    flash(f"Token “{token.name}” created. Copy it now: it will not be shown again.", "success")
    # Rendered rather than redirected: the secret must never sit in a URL,
    # the session or a flash message stored in a cookie.
    return _settings(201, new_secret=secret)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_api_token(token_id: int) -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    token = get_user_token(current_user, token_id)
    if token is None:
        abort(404, "No such token.")
    revoke_token(token)
    flash(f"Token “{token.name}” revoked. Programs using it can no longer sign in.", "info")
    return redirect(url_for("account.settings"))


@bp.post("/password")
@login_required
def password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _settings(400, password_form=form)
    try:
        change_password(current_user, form.current_password.data or "", form.new_password.data or "")
    except AccountError as exc:
        getattr(form, exc.field).errors = [str(exc)]
        return _settings(400, password_form=form)
    flash("Your password has been changed. Every other session has been logged out.", "success")
    return redirect(url_for("account.settings"))


@bp.post("/delete")
@login_required
def delete() -> ResponseReturnValue:
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return _settings(400, delete_form=form)
    try:
        delete_user(current_user._get_current_object(), form.password.data or "")
    except AccountError as exc:
        form.password.errors = [str(exc)]
        return _settings(400, delete_form=form)
    # Clear first so that logout_user() can ask Flask-Login to delete the
    # "remember me" cookie (see auth.logout).
    session.clear()
    logout_user()
    flash("Your account and all its notes have been deleted.", "info")
    return redirect(url_for("auth.register"))


@bp.get("/export")
@login_required
def export() -> ResponseReturnValue:
    """Download every note as a zip (Markdown files plus notes.json)."""
    return Response(
        export_zip(current_user),
        mimetype="application/zip",
        headers={"Content-Disposition": 'attachment; filename="notes-export.zip"'},
    )


@bp.post("/import")
@login_required
def import_notes() -> ResponseReturnValue:
    # The one form that uploads a whole notebook: allow more than elsewhere.
    request.max_content_length = MAX_ARCHIVE_BYTES
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
