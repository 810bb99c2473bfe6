"""Invitations: single-use links to register while REGISTRATION=invite.

An administrator creates one and hands out the link; the secret in it is
shown once and only its hash is kept. Registering with it claims it in the
same transaction that creates the account, so two sign-ups with one link
cannot both succeed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from ..db.types import is_valid_id, utcnow
from ..domain import NotFoundError, RuleConflict
from ..extensions import db
from . import audit
from .models import Invite, User
from .rules import DEFAULT_INVITE_DAYS, MAX_INVITE_DAYS, AccountError, invite_note_problem

INVITE_PREFIX = "inv_"
UNUSABLE = "This invitation link is not valid: it was used already, has expired or was withdrawn. Ask for a new one."


class InviteNotFound(NotFoundError):
    """No such invitation."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_invite(
    admin: User | None, *, days: int = DEFAULT_INVITE_DAYS, note: str = "", ip: str | None = None
) -> tuple[Invite, str]:
    """Create and commit an invitation that expires after ``days``; return it with its secret.

    ``admin`` is None when it comes from the command line.

    Raises AccountError (field ``days`` or ``note``) for a lifetime outside
    1..MAX_INVITE_DAYS or a note that is too long.
    """
    if not 1 <= days <= MAX_INVITE_DAYS:
        raise AccountError(f"An invitation lives 1 to {MAX_INVITE_DAYS} days.", field="days")
    note = (note or "").strip()
    problem = invite_note_problem(note)
    if problem:
        raise AccountError(problem, field="note")
    secret = INVITE_PREFIX + secrets.token_urlsafe(24)
    invite = Invite(
        token_hash=_hash(secret),
        note=note,
        created_by_id=admin.id if admin is not None else None,
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(invite)
    audit.record("invite_created", actor=admin, ip=ip, detail=note or f"expires in {days} days")
    db.session.commit()
    return invite, secret


def usable_invite(secret: str | None) -> Invite | None:
    """The unused, unexpired invitation with this secret, or None."""
    if not secret or not secret.startswith(INVITE_PREFIX) or len(secret) > 100:
        return None
    invite = db.session.scalar(sa.select(Invite).where(Invite.token_hash == _hash(secret)))
    if invite is None or invite.used_at is not None or invite.expires_at <= utcnow():
        return None
    return invite


def claim(secret: str | None, user: User) -> None:
    """Mark the invitation with this secret used by ``user`` (not committed: it goes with the new account).

    Raises RuleConflict when it is unknown, used, expired or withdrawn,
    including when another sign-up claimed it a moment ago.
    """
    invite = usable_invite(secret)
    if invite is None:
        raise RuleConflict(UNUSABLE)
    # Claimed only if still unused, in one statement: of two sign-ups racing
    # with one link, the second updates nothing.
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None), Invite.expires_at > now)
        .values(used_at=now, used_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise RuleConflict(UNUSABLE)


def list_invites(limit: int = 100) -> list[Invite]:
    """The newest invitations, used or not."""
    return list(db.session.scalars(sa.select(Invite).order_by(Invite.id.desc()).limit(limit)))


def withdraw_invite(invite_id: int, admin: User | None, *, ip: str | None = None) -> None:
    """Delete an unused invitation so its link stops working; InviteNotFound if there is none."""
    invite = db.session.get(Invite, invite_id) if is_valid_id(invite_id) else None
    if invite is None:
        raise InviteNotFound("No such invitation.")
    if invite.used_at is not None:
        raise RuleConflict("This invitation was used already; there is nothing to withdraw.")
    db.session.delete(invite)
    audit.record("invite_deleted", actor=admin, ip=ip, detail=invite.note)
    db.session.commit()
