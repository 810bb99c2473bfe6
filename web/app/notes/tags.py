"""Tags: per-user labels on notes, added, renamed, merged and tidied away."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..accounts.models import Owner
from ..db.types import utcnow
from ..extensions import db
from .models import Note, Tag, note_tags
from .rules import TagError, clean_tag_name, tag_key


def _get_or_create(owner_id: int, names: list[str]) -> list[Tag]:
    if not names:
        return []
    # No autoflush: a new note would be inserted now and then updated for its
    # tags, starting life at version 2.
    with db.session.no_autoflush:
        found = db.session.scalars(
            sa.select(Tag).where(Tag.owner_id == owner_id, Tag.name_key.in_([tag_key(n) for n in names]))
        ).all()
    existing = {tag.name_key: tag for tag in found}
    tags = []
    for name in names:
        tag = existing.get(tag_key(name))
        if tag is None:
            tag = existing[tag_key(name)] = Tag(owner_id=owner_id, name=name, name_key=tag_key(name))
            db.session.add(tag)
        tags.append(tag)
    return tags


def ensure_tags(owner_id: int, names: list[str]) -> dict[str, int]:
    """The ids of user ``owner_id``'s tags named ``names``, by ``tag_key``, creating the missing ones (not committed).

    For many notes at once (an import): a few statements for all of them,
    instead of a look-up per note. A new tag takes the first spelling given.
    """
    spelling: dict[str, str] = {}
    for name in names:
        spelling.setdefault(tag_key(name), name)
    ids = _tag_ids(owner_id, list(spelling))
    missing = [key for key in spelling if key not in ids]
    if missing:
        now = utcnow()
        rows = [{"owner_id": owner_id, "name": spelling[key], "name_key": key, "created_at": now} for key in missing]
        db.session.execute(sa.insert(Tag), rows)
        ids.update(_tag_ids(owner_id, missing))
    return ids


def _tag_ids(owner_id: int, keys: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    # In slices: a statement may bind only so many parameters (SQLite: 32,766).
    for start in range(0, len(keys), 500):
        query = sa.select(Tag.name_key, Tag.id).where(
            Tag.owner_id == owner_id, Tag.name_key.in_(keys[start : start + 500])
        )
        ids.update({key: tag_id for key, tag_id in db.session.execute(query)})
    return ids


def assign_tags(note: Note, names: list[str]) -> bool:
    """Give ``note`` exactly these tags (not committed). True if anything changed."""
    # A new note may have its owner set but not yet its owner_id.
    owner_id = note.owner_id if note.owner_id is not None else note.owner.id
    wanted = _get_or_create(owner_id, names)
    if [t.name_key for t in note.tags] == [t.name_key for t in wanted]:
        return False
    note.tags = wanted
    # The tags are part of the note: touching the row bumps its version, so
    # ETags and the edit-conflict check cover tag changes too.
    note.updated_at = utcnow()
    return True


def delete_unused_tags(owner_id: int) -> None:
    """Remove the tags of user ``owner_id`` that no note (live, archived or trashed) has any more."""
    used = sa.select(note_tags.c.tag_id)
    db.session.execute(sa.delete(Tag).where(Tag.owner_id == owner_id, Tag.id.not_in(used)))


@dataclass(frozen=True)
class TagCount:
    tag: Tag
    count: int


def tag_counts(user: Owner) -> list[TagCount]:
    """``user``'s tags with their number of live (not trashed) notes, by name.

    Tags whose notes are all in the trash are left out until one is restored.
    """
    # Counted from the user's live notes (ix_notes_owner_live, index-only)
    # outwards: starting from the tags made Postgres scan every user's notes.
    counts = (
        sa.select(note_tags.c.tag_id, sa.func.count().label("n"))
        .join(Note, Note.id == note_tags.c.note_id)
        .where(Note.owner_id == user.id, Note.deleted_at.is_(None))
        .group_by(note_tags.c.tag_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Tag, counts.c.n).join(counts, counts.c.tag_id == Tag.id).order_by(Tag.name_key)
    ).all()
    return [TagCount(tag, n) for tag, n in rows]


def get_user_tag(user: Owner, name: str) -> Tag | None:
    return db.session.scalar(sa.select(Tag).where(Tag.owner_id == user.id, Tag.name_key == tag_key(name)))


def rename_tag(user: Owner, old: str, new: str) -> Tag:
    """Rename ``user``'s tag ``old`` to ``new``, merging into ``new`` if it exists.

    Raises TagError when ``old`` is not one of the user's tags or ``new`` is unusable.
    """
    source = get_user_tag(user, old)
    if source is None:
        raise TagError(f"You have no tag named {old!r}.")
    new = clean_tag_name(new)
    target = get_user_tag(user, new)
    if target is None or target.id == source.id:
        source.name = new  # also a change of case only
        source.name_key = tag_key(new)
        db.session.commit()
        return source
    return merge_tags(user, source, target)


def merge_tags(user: Owner, source: Tag, target: Tag) -> Tag:
    """Move every note of ``source`` to ``target`` and delete ``source``."""
    notes = db.session.scalars(
        sa.select(Note).join(note_tags, note_tags.c.note_id == Note.id).where(note_tags.c.tag_id == source.id)
    ).all()
    now = utcnow()
    for note in notes:
        note.tags = [t for t in note.tags if t.id != source.id] + ([] if target in note.tags else [target])
        note.updated_at = now
    db.session.flush()
    db.session.delete(source)
    db.session.commit()
    return target
