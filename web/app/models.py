"""Every table in one import: what Alembic compares against the database, and
the flaskr tutorial's ``from app.models import db, Note``.

Each table is defined in its domain (``app.accounts.models``,
``app.notes.models``); this module only gathers them, with Alembic's hooks.
"""

from __future__ import annotations

from .accounts.models import (
    ApiToken,
    AuditEvent,
    AuthFailure,
    Invite,
    LoginSession,
    OidcIdentity,
    Owner,
    PasswordReset,
    RecoveryCode,
    TwoFactorChallenge,
    User,
)
from .db.types import UTCDateTime, render_alembic_type, utcnow
from .extensions import db
from .http.idempotency import IdempotencyRecord
from .limits.models import RateEvent
from .notes.models import Attachment, Note, NoteRevision, NoteShare, Tag, note_tags
from .notes.search import is_search_object


def include_in_autogenerate(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Leave the search objects (not models, see app/notes/search.py) out of Alembic's comparison."""
    return name is None or not is_search_object(name)


__all__ = [
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "AuthFailure",
    "IdempotencyRecord",
    "Invite",
    "LoginSession",
    "Note",
    "NoteRevision",
    "NoteShare",
    "OidcIdentity",
    "Owner",
    "PasswordReset",
    "RateEvent",
    "RecoveryCode",
    "Tag",
    "TwoFactorChallenge",
    "UTCDateTime",
    "User",
    "db",
    "include_in_autogenerate",
    "note_tags",
    "render_alembic_type",
    "utcnow",
]
