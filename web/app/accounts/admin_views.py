"""The administrator's pages (/admin): accounts, invitations and the audit log.

Every action is a POST with a CSRF token, goes through app/accounts/admin.py
(which audits it and keeps one enabled administrator), and comes back to the
accounts page with a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..db.types import is_valid_id, utcnow
from ..domain import RuleConflict
from ..extensions import login_manager
from ..http.forms import EmptyForm
from . import admin as service
from . import audit
from .forms import ConfirmDeleteForm, InviteForm
from .invites import create_invite, list_invites, withdraw_invite
from .views import client_ip

admin = Blueprint("admin", __name__, url_prefix="/admin")

# What each one-click action does, and what the page says after it.
ACTIONS: dict[str, tuple[Callable[..., object], str]] = {
    "disable": (service.disable, "{email} is disabled: logged out everywhere, tokens revoked, no more logins."),
    "enable": (service.enable, "{email} can log in again."),
    "revoke": (service.revoke_access, "Every session of {email} has ended and every token is revoked."),
    "promote": (lambda user, **kw: service.set_admin(user, True, **kw), "{email} is now an administrator."),
    "demote": (lambda user, **kw: service.set_admin(user, False, **kw), "{email} is no longer an administrator."),
}


def init_app(app: Flask) -> None:
    app.register_blueprint(admin)


@admin.before_request
def administrators_only() -> ResponseReturnValue | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403, "Only administrators of this server can see this page.")
    return None


def _users_page(status: int = 200, **context: object) -> ResponseReturnValue:
    page = {
        "accounts": service.list_accounts(),
        "invites": list_invites(),
        "invite_form": InviteForm(formdata=None),
        "action_form": EmptyForm(),
        "new_link": None,
        "now": utcnow(),
    }
    page.update(context)
    return render_template("admin/users.html", **page), status


@admin.get("/")
def index() -> ResponseReturnValue:
    return redirect(url_for("admin.users"))


@admin.get("/users")
def users() -> ResponseReturnValue:
    return _users_page()


@admin.post("/users/<int:user_id>/<action>")
def act(user_id: int, action: str) -> ResponseReturnValue:
    if action not in ACTIONS:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    target = service.get_account(user_id)
    do, done = ACTIONS[action]
    try:
        do(target, actor=current_user._get_current_object(), ip=client_ip())
    except RuleConflict as exc:
        flash(str(exc), "error")
        return _users_page(409)
    flash(done.format(email=target.email), "success")
    if target.id == current_user.id and action in ("disable", "revoke"):
        return redirect(url_for("auth.login"))  # that ended this session too
    if target.id == current_user.id and action == "demote":
        return redirect(url_for("notes.index"))  # the admin pages are closed to them now
    return redirect(url_for("admin.users"))


@admin.route("/users/<int:user_id>/delete", methods=["GET", "POST"])
def delete(user_id: int) -> ResponseReturnValue:
    target = service.get_account(user_id)
    form = ConfirmDeleteForm()
    status = 200
    if form.validate_on_submit():
        if (form.email.data or "").strip().lower() != target.email.lower():
            form.email.errors = [f"That is not {target.email}; nothing was deleted."]
            status = 400
        else:
            try:
                service.delete_account(target, actor=current_user._get_current_object(), ip=client_ip())
            except RuleConflict as exc:
                form.email.errors = [str(exc)]
                status = 409
            else:
                flash(f"{target.email} and all its notes are deleted.", "success")
                return redirect(url_for("admin.users" if target.id != current_user.id else "auth.login"))
    elif request.method == "POST":
        status = 400
    return render_template("admin/delete.html", target=target, form=form), status


@admin.post("/invites")
def invite() -> ResponseReturnValue:
    form = InviteForm()
    if not form.validate_on_submit():
        return _users_page(400, invite_form=form)
    _, secret = create_invite(current_user, days=form.days.data or 0, note=form.note.data or "", ip=client_ip())
    link = url_for("auth.register", invite=secret, _external=True)
    flash("Invitation created. Copy the link now: it will not be shown again.", "success")
    # Rendered, not redirected: the secret must not sit in a URL of ours or a cookie.
    return _users_page(201, new_link=link)


@admin.post("/invites/<int:invite_id>/withdraw")
def withdraw(invite_id: int) -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        withdraw_invite(invite_id, current_user, ip=client_ip())
    except RuleConflict as exc:
        flash(str(exc), "error")
        return _users_page(409)
    flash("Invitation withdrawn: its link no longer works.", "info")
    return redirect(url_for("admin.users"))


BROKEN_PAGE_LINK = "That page link is broken; start again from the first page."


@admin.get("/audit")
def audit_log() -> ResponseReturnValue:
    raw = request.args.get("before") or None
    before = None
    if raw is not None:
        # Digits only (int() would take "٣" or " 3"), and an id a row can have:
        # a number past 64 bits would reach the database and fail there.
        if not re.fullmatch(r"[0-9]{1,19}", raw) or not is_valid_id(int(raw)):
            abort(400, BROKEN_PAGE_LINK)
        before = int(raw)
    # One more than a page, to know whether an older page exists at all.
    events = audit.recent_events(before_id=before, limit=audit.PAGE_SIZE + 1)
    older = events[audit.PAGE_SIZE - 1].id if len(events) > audit.PAGE_SIZE else None
    return render_template(
        "admin/audit.html", events=events[: audit.PAGE_SIZE], describe=audit.describe, older=older, paged=before
    )
