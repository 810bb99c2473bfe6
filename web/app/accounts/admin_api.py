"""/api/v1/admin: what the admin pages do, for an administrator's token with the admin scope.

Only a Bearer token with the ``admin`` scope whose account is (still) an
enabled administrator gets in: a browser session cannot, so a cross-site
request or a stolen cookie never reaches these operations, and taking the
role away shuts its tokens out at once.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g, request, url_for
from flask.views import MethodView

from ..api.auth import api_user
from ..api.blueprint import bp
from ..api.docs import problem_response
from . import admin, audit
from .invites import create_invite, list_invites, withdraw_invite
from .models import AuditEvent, User
from .schemas import (
    AccessRevokedSchema,
    AdminAccountListSchema,
    AdminAccountSchema,
    AuditListSchema,
    AuditQuerySchema,
    InviteCreatedSchema,
    InviteCreateSchema,
    InviteListSchema,
)

NOT_ADMIN = (
    "Only an administrator's API token with the admin scope can use /api/v1/admin; create one on the Account page."
)
LAST_ADMIN_DOC = "It would leave no enabled administrator"


def require_admin() -> User:
    """The calling administrator; 403 for a session, a token without the admin scope, or an account that is no admin."""
    token = g.get("api_token")
    if token is None or token.scope != "admin":
        abort(403, NOT_ADMIN)
    user = api_user()
    if not user.is_admin or user.is_disabled:
        abort(403, NOT_ADMIN)
    return user


def _account(row: admin.AccountSummary) -> dict[str, Any]:
    user = row.user
    return {
        "id": user.id,
        "email": user.email,
        "is_admin": user.is_admin,
        "disabled": user.is_disabled,
        "two_factor": row.two_factor,
        "created_at": user.created_at,
        "last_seen_at": row.last_seen,
        "notes": row.notes,
    }


def _summary(user_id: int) -> dict[str, Any]:
    """One account as the list shows it; 404 when there is none."""
    return _account(admin.account_summary(user_id))


def _event(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "created_at": event.created_at,
        "action": event.action,
        "description": audit.describe(event),
        "actor_email": event.actor_email,
        "target_email": event.target_email,
        "ip": event.ip,
        "detail": event.detail,
    }


@bp.route("/admin/users")
class AdminAccounts(MethodView):
    @bp.response(200, AdminAccountListSchema)
    @problem_response(403, NOT_ADMIN)
    def get(self) -> Any:
        """List every account with its role, state, note count and when it was last seen."""
        require_admin()
        return {"items": [_account(row) for row in admin.list_accounts()]}


@bp.route("/admin/users/<int:user_id>")
class AdminAccount(MethodView):
    @bp.response(200, AdminAccountSchema)
    @problem_response(403, NOT_ADMIN)
    @problem_response(404, "No such account")
    def get(self, user_id: int) -> Any:
        """Read one account."""
        require_admin()
        return _summary(user_id)

    @bp.response(204)
    @problem_response(403, NOT_ADMIN)
    @problem_response(404, "No such account")
    @problem_response(409, LAST_ADMIN_DOC)
    def delete(self, user_id: int) -> Any:
        """Delete an account with all its notes and tokens."""
        actor = require_admin()
        admin.delete_account(admin.get_account(user_id), actor=actor, ip=request.remote_addr)
        return "", 204


def _action(user_id: int, name: str) -> Any:
    actor = require_admin()
    target = admin.get_account(user_id)
    ip = request.remote_addr
    if name == "disable":
        admin.disable(target, actor=actor, ip=ip)
    elif name == "enable":
        admin.enable(target, actor=actor, ip=ip)
    else:
        admin.set_admin(target, name == "promote", actor=actor, ip=ip)
    return _summary(user_id)


@bp.route("/admin/users/<int:user_id>/disable")
class AdminDisable(MethodView):
    @bp.response(200, AdminAccountSchema)
    @problem_response(403, NOT_ADMIN)
    @problem_response(404, "No such account")
    @problem_response(409, LAST_ADMIN_DOC)
    def post(self, user_id: int) -> Any:
        """Disable an account: its sessions and tokens end at once, and it cannot log in."""
        return _action(user_id, "disable")


@bp.route("/admin/users/<int:user_id>/enable")
class AdminEnable(MethodView):
    @bp.response(200, AdminAccountSchema)
    @problem_response(403, NOT_ADMIN)
    @problem_response(404, "No such account")
    def post(self, user_id: int) -> Any:
        """Let a disabled account log in again (its old tokens stay revoked)."""
        return _action(user_id, "enable")


@bp.route("/admin/users/<int:user_id>/promote")
class AdminPromote(MethodView):
    @bp.response(200, AdminAccountSchema)
    @problem_response(403, NOT_ADMIN)
    @problem_response(404, "No such account")
    def post(self, user_id: int) -> Any:
        """Make an account an administrator."""
        return _action(user_id, "promote")


@bp.route("/admin/users/<int:user_id>/demote")
class AdminDemote(MethodView):
    @bp.response(200, AdminAccountSchema)
    @problem_response(403, NOT_ADMIN)
    @problem_response(404, "No such account")
    @problem_response(409, LAST_ADMIN_DOC)
    def post(self, user_id: int) -> Any:
        """Take the administrator's role away (and revoke the account's admin tokens)."""
        return _action(user_id, "demote")


@bp.route("/admin/users/<int:user_id>/revoke-access")
class AdminRevokeAccess(MethodView):
    @bp.response(200, AccessRevokedSchema)
    @problem_response(403, NOT_ADMIN)
    @problem_response(404, "No such account")
    def post(self, user_id: int) -> Any:
        """End every login session and revoke every API token of an account."""
        actor = require_admin()
        sessions, tokens = admin.revoke_access(admin.get_account(user_id), actor=actor, ip=request.remote_addr)
        return {"sessions_ended": sessions, "tokens_revoked": tokens}


@bp.route("/admin/invites")
class AdminInvites(MethodView):
    @bp.response(200, InviteListSchema)
    @problem_response(403, NOT_ADMIN)
    def get(self) -> Any:
        """List the newest invitations, used or not (never their links)."""
        require_admin()
        return {"items": list_invites()}

    @bp.arguments(InviteCreateSchema)
    @bp.response(201, InviteCreatedSchema)
    @problem_response(403, NOT_ADMIN)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a single-use registration link. The link is in this response only."""
        actor = require_admin()
        invite, secret = create_invite(actor, days=data["days"], note=data["note"], ip=request.remote_addr)
        body = {name: getattr(invite, name) for name in ("id", "note", "created_at", "expires_at", "used_at")}
        return body | {"link": url_for("auth.register", invite=secret, _external=True)}, 201


@bp.route("/admin/invites/<int:invite_id>")
class AdminInvite(MethodView):
    @bp.response(204)
    @problem_response(403, NOT_ADMIN)
    @problem_response(404, "No such invitation")
    @problem_response(409, "The invitation was used already")
    def delete(self, invite_id: int) -> Any:
        """Withdraw an unused invitation: its link stops working."""
        actor = require_admin()
        withdraw_invite(invite_id, actor, ip=request.remote_addr)
        return "", 204


@bp.route("/admin/audit")
class AdminAudit(MethodView):
    @bp.arguments(AuditQuerySchema, location="query")
    @bp.response(200, AuditListSchema)
    @problem_response(403, NOT_ADMIN)
    def get(self, query: dict[str, Any]) -> Any:
        """The audit log, newest first, a page at a time."""
        require_admin()
        events = audit.recent_events(before_id=query["before"])
        older = events[-1].id if len(events) == audit.PAGE_SIZE else None
        return {"items": [_event(e) for e in events], "next_before": older}
