"""What the sidebar's stored tag counts must always equal: a recount of live notes."""

from __future__ import annotations

import sqlalchemy as sa

from app.models import User, db
from app.notes.tags import tag_counts

_RECOUNT = sa.text(
    "SELECT tags.name, count(*) FROM note_tags JOIN notes ON notes.id = note_tags.note_id "
    "JOIN tags ON tags.id = note_tags.tag_id WHERE tags.owner_id = :owner AND notes.deleted_at IS NULL "
    "GROUP BY tags.name"
)


def recount(owner_id: int) -> dict[str, int]:
    """Each of the user's tags that live notes have, with how many: counted from the rows themselves."""
    return {name: n for name, n in db.session.execute(_RECOUNT, {"owner": owner_id})}


def shown(user: User) -> dict[str, int]:
    """What the sidebar shows: the stored counts."""
    return {count.tag.name: count.count for count in tag_counts(user)}


def assert_counts_true(*users: User) -> None:
    """The stored counts of every one of ``users`` equal a recount."""
    db.session.expire_all()
    for user in users:
        assert shown(user) == recount(user.id), user.email
