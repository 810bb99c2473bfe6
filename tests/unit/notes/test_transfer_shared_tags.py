"""Importing notes that share a tag the importing user does not have yet
(found by the browser tier: export, delete the account, register, import)."""

from __future__ import annotations

import sqlalchemy as sa

from app.models import Note, Tag, db
from app.notes.tags import assign_tags
from app.notes.transfer import export_zip, import_zip


def test_notes_sharing_a_new_tag_import_into_one_tag(factory, user):
    first, second = factory.note(user, title="A"), factory.note(user, title="B")
    assign_tags(first, ["shared", "only-a"])
    assign_tags(second, ["Shared"])
    db.session.commit()
    archive = export_zip(user)

    newcomer = factory.user("newcomer@example.com")
    assert import_zip(newcomer, archive).count == 2

    tags = db.session.scalars(sa.select(Tag).where(Tag.owner_id == newcomer.id)).all()
    assert sorted(t.name_key for t in tags) == ["only-a", "shared"]
    notes = db.session.scalars(sa.select(Note).where(Note.owner_id == newcomer.id).order_by(Note.title)).all()
    assert [sorted(t.name_key for t in n.tags) for n in notes] == [["only-a", "shared"], ["shared"]]
    assert [n.version for n in notes] == [1, 1]
