"""app.notes.sharing's own refusals: the pages and the API check first, the service still holds the rule."""

from __future__ import annotations

import pytest

from app.db.types import utcnow
from app.models import NoteShare, db
from app.notes.sharing import ShareError, ShareNotFound, create_share, get_share, shared_note


@pytest.mark.parametrize("days", [0, 3, 366, -1])
def test_a_lifetime_not_offered_makes_no_link(factory, user, days):
    note = factory.note(user)
    with pytest.raises(ShareError, match="1, 7, 30 or 365 days"):
        create_share(note, days=days)
    assert db.session.query(NoteShare).count() == 0


def test_a_note_in_the_trash_gets_no_link(factory, user):
    note = factory.note(user, deleted_at=utcnow())
    with pytest.raises(ShareError, match="in the trash"):
        create_share(note)
    assert db.session.query(NoteShare).count() == 0


def test_a_link_of_another_note_is_not_found_through_this_one(factory, user):
    mine, other = factory.note(user), factory.note(user)
    share, secret = create_share(other)
    with pytest.raises(ShareNotFound):
        get_share(mine, share.id)
    assert shared_note(secret).id == other.id
