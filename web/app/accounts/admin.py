"""What an administrator may do to accounts: list them, grant or take away the
administrator's role, disable and enable, end every session and token, delete.

Shared by the admin pages, the admin API and ``flask users``. Every action is
written to the audit log in the same transaction. One rule holds throughout:
there is always an enabled administrator left, who can log in with a password,
so nobody is ever locked out of managing the instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from ..db.types import is_valid_id, utcnow
from ..domain import NotFoundError, RuleConflict
from ..extensions import db
from ..notes.models import Note
from . import audit
from .models import ApiToken, LoginSession, User
from .passwords import NO_PASSWORD
from .tokens import revoke_all_tokens

LAST_ADMIN = (
    "{email} is the last administrator who can log in; make another account an administrator first, "
    "so that somebody can still manage this server."
)


class AccountNotFound(NotFoundError):
    """No account with this id."""


@dataclass(frozen=True)
class AccountSummary:
    """An account as the admin list shows it."""

    user: User
    notes: int
    last_seen: datetime | None

    @property
    def two_factor(self) -> bool:
        """Whether the account logs in with a second factor."""
        return self.user.two_factor_enabled


def get_account(user_id: int) -> User:
    """The account ``user_id``; AccountNotFound when there is none."""
    user = db.session.get(User, user_id) if is_valid_id(user_id) else None
    if user is None:
        raise AccountNotFound("No such account.")
    return user


def list_accounts() -> list[AccountSummary]:
    """Every account, oldest first, with its note count and when it was last seen
    (its latest session activity or token use)."""
    return _summaries()


def account_summary(user_id: int) -> AccountSummary:
    """The account ``user_id`` as the list shows it (the same query, for its row
    alone); AccountNotFound when there is none."""
    rows = _summaries(user_id) if is_valid_id(user_id) else []
    if not rows:
        raise AccountNotFound("No such account.")
    return rows[0]


def _summaries(user_id: int | None = None) -> list[AccountSummary]:
    """The admin list's rows, oldest first: every account's, or only ``user_id``'s.

    The one place the note count and "last seen" are worked out. For one
    account each aggregate is filtered to it too, so it counts that account's
    rows only instead of everyone's.
    """

    def only(owner: InstrumentedAttribute[int]) -> list[sa.ColumnElement[bool]]:
        return [] if user_id is None else [owner == user_id]

    notes = (
        sa.select(Note.owner_id, sa.func.count().label("n"))
        .where(*only(Note.owner_id))
        .group_by(Note.owner_id)
        .subquery()
    )
    sessions = (
        sa.select(LoginSession.user_id, sa.func.max(LoginSession.last_seen_at).label("at"))
        .where(*only(LoginSession.user_id))
        .group_by(LoginSession.user_id)
        .subquery()
    )
    tokens = (
        sa.select(ApiToken.owner_id, sa.func.max(ApiToken.last_used_at).label("at"))
        .where(*only(ApiToken.owner_id))
        .group_by(ApiToken.owner_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(User, notes.c.n, sessions.c.at, tokens.c.at)
        .where(*only(User.id))
        .outerjoin(notes, notes.c.owner_id == User.id)
        .outerjoin(sessions, sessions.c.user_id == User.id)
        .outerjoin(tokens, tokens.c.owner_id == User.id)
        .order_by(User.id)
    ).all()
    return [
        AccountSummary(user, n or 0, max((at for at in (session_at, token_at) if at is not None), default=None))
        for user, n, session_at, token_at in rows
    ]


def _keep_an_administrator(target: User) -> None:
    """RuleConflict when ``target`` is the only enabled administrator who has a password.

    Administrators made by single sign-on (no password) do not count: with
    the identity provider down, or PASSWORD_LOGIN=off, only a password gets
    an administrator in (/auth/login/password).

    Every administrator's row (and the target's) is locked first, in id
    order: two administrators taking each other's role at the same moment
    are checked one after the other, never both against the same count.
    """
    locked = db.session.execute(
        sa.select(User.id, User.is_admin, User.disabled_at, User.password_hash)
        .where(sa.or_(User.is_admin.is_(True), User.id == target.id))
        .order_by(User.id)
        .with_for_update()
    ).all()
    others = [
        row
        for row in locked
        if row.id != target.id and row.is_admin and row.disabled_at is None and row.password_hash != NO_PASSWORD
    ]
    if not others:
        raise RuleConflict(LAST_ADMIN.format(email=target.email))


def _end_access(target: User) -> tuple[int, int]:
    """End every login session and revoke every API token of ``target`` (not committed); the counts."""
    sessions = db.session.execute(sa.delete(LoginSession).where(LoginSession.user_id == target.id))
    return int(sessions.rowcount or 0), revoke_all_tokens(target)  # type: ignore[attr-defined]


def set_admin(target: User, make_admin: bool, *, actor: User | None, ip: str | None = None) -> None:
    """Grant or take away the administrator's role (committed).

    Raises RuleConflict when that would leave no enabled administrator.
    Taking the role away also revokes the account's admin-scope tokens.
    """
    if target.is_admin == make_admin:
        return
    if not make_admin:
        _keep_an_administrator(target)
        db.session.execute(
            sa.update(ApiToken)
            .where(ApiToken.owner_id == target.id, ApiToken.scope == "admin")
            .values(revoked=True)
            .execution_options(synchronize_session="fetch")
        )
    target.is_admin = make_admin
    audit.record("admin_granted" if make_admin else "admin_revoked", target=target, actor=actor, ip=ip)
    db.session.commit()


def disable(target: User, *, actor: User | None, ip: str | None = None) -> None:
    """Disable the account (committed): no more logins, and its sessions and tokens end at once.

    Raises RuleConflict for the last enabled administrator.
    """
    if target.is_disabled:
        return
    if target.is_admin:
        _keep_an_administrator(target)
    target.disabled_at = utcnow()
    sessions, tokens = _end_access(target)
    audit.record(
        "account_disabled", target=target, actor=actor, ip=ip, detail=f"{sessions} sessions, {tokens} tokens ended"
    )
    db.session.commit()


def enable(target: User, *, actor: User | None, ip: str | None = None) -> None:
    """Let a disabled account log in again (committed). Its old tokens stay revoked."""
    if not target.is_disabled:
        return
    target.disabled_at = None
    audit.record("account_enabled", target=target, actor=actor, ip=ip)
    db.session.commit()


def revoke_access(target: User, *, actor: User | None, ip: str | None = None) -> tuple[int, int]:
    """End every login session and revoke every API token of the account (committed); the counts."""
    sessions, tokens = _end_access(target)
    audit.record(
        "access_revoked", target=target, actor=actor, ip=ip, detail=f"{sessions} sessions, {tokens} tokens ended"
    )
    db.session.commit()
    return sessions, tokens


def delete_account(target: User, *, actor: User | None, ip: str | None = None) -> None:
    """Delete the account with all its notes and tokens (committed).

    Raises RuleConflict for the last enabled administrator. The log keeps
    the account's email, since its row is gone.
    """
    if target.is_admin:
        _keep_an_administrator(target)
    by = "by its owner" if actor is target else "by an administrator"
    audit.record("account_deleted", target_email=target.email, actor=actor, ip=ip, detail=by)
    db.session.flush()
    db.session.delete(target)
    db.session.commit()
