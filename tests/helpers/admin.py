"""Look-ups for the administration tests: audit events as stored, and a digest
of every account row to prove a refused request changed nothing."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from app.models import ApiToken, AuditEvent, Invite, LoginSession, Note, User, db


def make_admin(user: User) -> User:
    """``user``, made an administrator and committed."""
    user.is_admin = True
    db.session.commit()
    return user


def audit_events(action: str | None = None) -> list[AuditEvent]:
    """The audit log as stored (oldest first), of one ``action`` or all."""
    db.session.expire_all()
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def account_state() -> str:
    """A digest of every account, session, token, invitation, note and audit row."""
    db.session.expire_all()
    digest = hashlib.sha256()
    for model in (User, LoginSession, ApiToken, Invite, Note, AuditEvent):
        for row in db.session.execute(sa.select(model.__table__).order_by(model.__table__.c.id)).all():
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def fresh_user(user_id: int) -> User | None:
    """The account as stored now, or None once deleted."""
    db.session.expire_all()
    return db.session.get(User, user_id)
