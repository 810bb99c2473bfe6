"""Server-side login sessions.

The signed cookie alone cannot be taken back: a copy keeps working until it
expires. So each login gets a row, the cookie carries only its random id, and
logging out, changing the password or a timeout deletes the row. The row
also keeps the browser's User-Agent and address, so that its owner can tell
their sessions apart.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from ..db.types import utcnow
from ..extensions import db
from .models import LoginSession, User
from .rules import MAX_IP_LENGTH, MAX_USER_AGENT_LENGTH

# last_seen_at is written at most this often, so reads do not all turn into writes.
TOUCH_RESOLUTION = timedelta(minutes=1)


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _idle_limit(remember: bool) -> timedelta:
    cfg = current_app.config
    return cfg["REMEMBER_COOKIE_DURATION"] if remember else cfg["SESSION_IDLE_TIMEOUT"]


def _expired(row: LoginSession, now: datetime) -> bool:
    if now - row.created_at > current_app.config["SESSION_ABSOLUTE_TIMEOUT"]:
        return True
    return now - row.last_seen_at > _idle_limit(row.remember)


def start_session(user: User, *, remember: bool, user_agent: str | None = None, ip: str | None = None) -> str:
    """Create and commit a login session for ``user``; return its id (the cookie value).

    ``user_agent`` and ``ip`` are the browser's, kept (cut to their column's
    length) to show the owner where the session is.
    """
    sid = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(
            user=user,
            token_hash=_hash(sid),
            remember=remember,
            user_agent=(user_agent or "")[:MAX_USER_AGENT_LENGTH] or None,
            ip=(ip or "")[:MAX_IP_LENGTH] or None,
        )
    )
    db.session.commit()
    user.login_sid = sid
    return sid


def load_session_user(sid: str) -> User | None:
    """The user of a live session ``sid``, or None if it ended, timed out or its account is disabled.

    Such a session is deleted on the way.
    """
    if not sid or len(sid) > 100:
        return None
    # The user comes in the same query: every page that asks needs it next.
    row = db.session.scalar(
        sa.select(LoginSession).options(joinedload(LoginSession.user)).where(LoginSession.token_hash == _hash(sid))
    )
    if row is None:
        return None
    now = utcnow()
    if _expired(row, now) or row.user.is_disabled:
        db.session.delete(row)
        db.session.commit()
        return None
    if now - row.last_seen_at >= TOUCH_RESOLUTION:
        row.last_seen_at = now
        db.session.commit()
    user = row.user
    user.login_sid = sid
    return user


def end_session(sid: str | None) -> None:
    """End one session (logout). Unknown ids are ignored."""
    if sid:
        db.session.execute(sa.delete(LoginSession).where(LoginSession.token_hash == _hash(sid)))
        db.session.commit()


def end_other_sessions(user: User) -> int:
    """End every session of ``user`` except the current one; return how many."""
    query = sa.delete(LoginSession).where(LoginSession.user_id == user.id)
    if user.login_sid:
        query = query.where(LoginSession.token_hash != _hash(user.login_sid))
    result = db.session.execute(query)
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
