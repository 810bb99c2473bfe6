"""Server-side login sessions.

The signed cookie alone cannot be taken back: a copy keeps working until it
expires. So each login gets a row, the cookie carries only its random id, and
logging out, changing the password, a timeout or the user ending it from
another device deletes the row. The row also keeps the browser's User-Agent
and address, so that its owner can tell their sessions apart.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from ..db.types import is_valid_id, utcnow
from ..domain import NotFoundError, RuleConflict
from ..extensions import db
from . import audit
from .devices import device_label
from .models import LoginSession, Owner, User
from .rules import MAX_IP_LENGTH, MAX_USER_AGENT_LENGTH

# last_seen_at is written at most this often, so reads do not all turn into writes.
TOUCH_RESOLUTION = timedelta(minutes=1)


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _idle_limit(remember: bool) -> timedelta:
    cfg = current_app.config
    return cfg["REMEMBER_COOKIE_DURATION"] if remember else cfg["SESSION_IDLE_TIMEOUT"]


class _Lifetime(Protocol):
    """What decides whether a session has timed out: a LoginSession, or a row of its columns."""

    @property
    def created_at(self) -> datetime: ...
    @property
    def last_seen_at(self) -> datetime: ...
    @property
    def remember(self) -> bool: ...


def _expired(row: _Lifetime, now: datetime) -> bool:
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


def session_lookup_statement(sid: str) -> sa.Select[LoginSession]:
    """The login session whose id is ``sid``, live or not, with its user; builds only, never runs.

    A function of its own so that bench/ceiling_app.py's data floor looks a
    session up exactly as every page does.
    """
    # The user comes in the same query: every page that asks needs it next.
    return sa.select(LoginSession).options(joinedload(LoginSession.user)).where(LoginSession.token_hash == _hash(sid))


def load_session_user(sid: str) -> User | None:
    """The user of a live session ``sid``, or None if it ended, timed out or its account is disabled.

    Such a session is deleted on the way.
    """
    if not sid or len(sid) > 100:
        return None
    row = db.session.scalar(session_lookup_statement(sid))
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


class SessionNotFound(NotFoundError):
    """No such login session of this user's."""


class CurrentSession(RuleConflict):
    """The session asked to end is the one asking: that is a logout."""


@dataclass(frozen=True)
class ActiveSession:
    """A login session as its owner sees it listed."""

    id: int
    device: str
    user_agent: str | None
    ip: str | None
    created_at: datetime
    last_seen_at: datetime
    remember: bool
    current: bool


def active_sessions(owner: Owner, current_sid: str | None = None) -> list[ActiveSession]:
    """The live login sessions of ``owner``, last seen first; the one whose id is ``current_sid`` is marked.

    Sessions past their timeouts are left out (they end at their next use).
    """
    rows = db.session.scalars(
        sa.select(LoginSession)
        .where(LoginSession.user_id == owner.id)
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
    )
    now = utcnow()
    current_hash = _hash(current_sid) if current_sid else None
    return [
        ActiveSession(
            id=row.id,
            device=device_label(row.user_agent),
            user_agent=row.user_agent,
            ip=row.ip,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            remember=row.remember,
            current=row.token_hash == current_hash,
        )
        for row in rows
        if not _expired(row, now)
    ]


def end_user_session(user: User, session_id: int, *, current_sid: str | None, ip: str | None = None) -> str:
    """End ``user``'s session ``session_id`` at once (committed, audited); return its device's name.

    Raises SessionNotFound when there is no such session of ``user``'s (another
    user's too), and CurrentSession for the caller's own session
    (``current_sid``; None for an API token's call): that one ends by logging
    out. Nothing changes then.
    """
    row = None
    if is_valid_id(session_id):
        row = db.session.scalar(
            sa.select(LoginSession).where(LoginSession.id == session_id, LoginSession.user_id == user.id)
        )
    if row is None:
        raise SessionNotFound("No such session.")
    if current_sid and row.token_hash == _hash(current_sid):
        raise CurrentSession("This is the session you are using now; log out instead.")
    device, address = device_label(row.user_agent), row.ip
    # A statement, not session.delete(): two requests ending the same session
    # at once must not fail; the one that deleted nothing says so.
    result = db.session.execute(sa.delete(LoginSession).where(LoginSession.id == row.id))
    if not result.rowcount:  # type: ignore[attr-defined]
        db.session.rollback()
        raise SessionNotFound("No such session.")
    audit.record(
        "session_ended", target=user, actor=user, ip=ip, detail=f"{device}, from {address or 'an unknown address'}"
    )
    db.session.commit()
    return device


def delete_other_sessions(user: Owner, keep_sid: str | None) -> int:
    """Delete every session of ``user`` but ``keep_sid`` (every one when it is None:
    an API token's call, a password reset); not committed.

    Returns how many of them were live: rows of sessions that had timed out
    already (they stay until their cookie comes back) go too, uncounted, so
    the number matches the list the user saw.
    """
    query = sa.delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep_sid:
        query = query.where(LoginSession.token_hash != _hash(keep_sid))
    ended = db.session.execute(
        query.returning(LoginSession.created_at, LoginSession.last_seen_at, LoginSession.remember)
    ).all()
    now = utcnow()
    return sum(1 for row in ended if not _expired(row, now))


def end_other_sessions(user: User, *, keep_sid: str | None, ip: str | None = None) -> int:
    """Log out everywhere else: end every session of ``user`` but the caller's own,
    ``keep_sid`` (every one, for an API token's call); committed and audited. How many ended."""
    ended = delete_other_sessions(user, keep_sid)
    audit.record(
        "other_sessions_ended", target=user, actor=user, ip=ip, detail=f"{ended} session{'' if ended == 1 else 's'}"
    )
    db.session.commit()
    return ended
