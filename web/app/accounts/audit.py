"""The audit log: who did what to which account, when and from where.

Written by the services and views as things happen (logins and failed
logins, password changes, tokens, sessions ended by their owner,
administrators' actions), read by
administrators (/admin/audit, /api/v1/admin/audit) and by each user for
their own account (the account page).
"""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from .models import AuditEvent, User

# Every action the log knows, with how it reads on a page.
ACTIONS = {
    "register": "Account created by signing up",
    "account_created": "Account created by an administrator",
    "login": "Logged in",
    "login_failed": "Failed login",
    "login_refused": "Login refused: the account is disabled",
    "password_login_refused": "Password login refused: on this server it is for administrators only",
    "password_changed": "Password changed",
    "password_reset_requested": "Password reset link asked for",
    "password_reset": "Password reset with a reset link",
    "token_created": "API token created",
    "token_revoked": "API token revoked",
    "tokens_revoked": "Every API token revoked",
    "session_ended": "A login session ended by its owner",
    "other_sessions_ended": "Logged out everywhere else (other sessions ended)",
    "account_deleted": "Account deleted",
    "admin_granted": "Made an administrator",
    "admin_revoked": "No longer an administrator",
    "account_disabled": "Account disabled",
    "account_enabled": "Account enabled again",
    "access_revoked": "Every session and API token ended",
    "invite_created": "Invitation created",
    "invite_deleted": "Invitation withdrawn",
    "two_factor_enabled": "Two-factor login turned on",
    "two_factor_disabled": "Two-factor login turned off",
    "two_factor_failed": "Wrong two-factor code",
    "recovery_codes_regenerated": "New recovery codes made (the old ones no longer work)",
    "recovery_code_used": "Recovery code used",
    "sso_login": "Logged in with single sign-on",
    "sso_login_failed": "Failed single sign-on login",
    "sso_login_refused": "Single sign-on login refused",
    "sso_linked": "Single sign-on identity linked",
    "sso_confirmed": "Confirmed with single sign-on",
    "sso_unlinked": "Single sign-on identity unlinked",
}
MAX_DETAIL = 255
PAGE_SIZE = 50


def record(
    action: str,
    *,
    target: User | None = None,
    target_email: str | None = None,
    actor: User | None = None,
    ip: str | None = None,
    detail: str = "",
) -> AuditEvent:
    """Add one event to the session; it is committed with the work it records.

    ``target_email`` names an account that has no row (a failed login for an
    unknown email). Raises ValueError for an action the log does not know.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else None,
        target_id=target.id if target is not None else None,
        target_email=target.email if target is not None else (target_email or "")[:254] or None,
        ip=(ip or "")[:45] or None,
        detail=detail[:MAX_DETAIL],
    )
    db.session.add(event)
    return event


def events_about(user: User, limit: int = 20) -> list[AuditEvent]:
    """The newest events about ``user``'s account, newest first."""
    query = (
        sa.select(AuditEvent)
        .where(AuditEvent.target_id == user.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def recent_events(*, before_id: int | None = None, limit: int = PAGE_SIZE) -> list[AuditEvent]:
    """Every account's events, newest first; ``before_id`` pages back (events with smaller ids)."""
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(db.session.scalars(query))


def describe(event: AuditEvent) -> str:
    """How ``event`` reads on a page."""
    return ACTIONS.get(event.action, event.action)
