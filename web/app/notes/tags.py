"""Tags: per-user labels on notes, added, renamed, merged and tidied away."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..accounts.models import Owner
from ..db.statements import insert_for
from ..db.types import utcnow
from ..extensions import db
from .models import Note, Tag, note_tags
from .rules import TagError, clean_tag_name, tag_key


def _get_or_create(owner_id: int, names: list[str]) -> list[Tag]:
    """User ``owner_id``'s tags named ``names``, in order, creating the missing ones (not committed)."""
    if not names:
        return []
    spelling = _first_spellings(names)
    # No autoflush: a new note would be inserted now and then updated for its
    # tags, starting life at version 2.
    with db.session.no_autoflush:
        found = _tags(owner_id, list(spelling))
        missing = [key for key in spelling if key not in found]
        if missing:
            _insert_missing(owner_id, {key: spelling[key] for key in missing})
            found.update(_tags(owner_id, missing))
    return [found[tag_key(name)] for name in names]


def _tags(owner_id: int, keys: list[str]) -> dict[str, Tag]:
    query = sa.select(Tag).where(Tag.owner_id == owner_id, Tag.name_key.in_(keys))
    return {tag.name_key: tag for tag in db.session.scalars(query)}


def _first_spellings(names: list[str]) -> dict[str, str]:
    """Each tag key of ``names`` with the first spelling given for it: a new tag takes that one."""
    spelling: dict[str, str] = {}
    for name in names:
        spelling.setdefault(tag_key(name), name)
    return spelling


def _insert_missing(owner_id: int, spelling: dict[str, str]) -> None:
    """Insert these tags (key -> name) unless they exist.

    Another request of the same user may be creating the same tag at this
    moment (two clients saving notes, two imports). Its row, once committed,
    wins: ON CONFLICT DO NOTHING waits for it instead of failing with a
    unique violation, and the caller then reads its id.
    """
    now = utcnow()
    rows = [{"owner_id": owner_id, "name": name, "name_key": key, "created_at": now} for key, name in spelling.items()]
    statement = insert_for(db.session.get_bind().dialect.name)(Tag).on_conflict_do_nothing(
        index_elements=["owner_id", "name_key"]
    )
    db.session.execute(statement, rows)


def ensure_tags(owner_id: int, names: list[str]) -> dict[str, int]:
    """The ids of user ``owner_id``'s tags named ``names``, by ``tag_key``, creating the missing ones (not committed).

    For many notes at once (an import): a few statements for all of them,
    instead of a look-up per note. A new tag takes the first spelling given.
    """
    spelling = _first_spellings(names)
    ids = _tag_ids(owner_id, list(spelling))
    missing = [key for key in spelling if key not in ids]
    if missing:
        _insert_missing(owner_id, {key: spelling[key] for key in missing})
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
    The counts are kept by the database (app/notes/tag_counts.py): this reads
    the user's tags, however many notes they have.
    """
    return [TagCount(tag, tag.note_count) for tag in db.session.scalars(tag_counts_statement(user))]


def tag_counts_statement(user: Owner) -> sa.Select[Tag]:
    """``tag_counts``' one query, built only, for bench/ceiling_app.py's data floor to run as the sidebar does."""
    return (
        sa.select(Tag)
        .where(Tag.owner_id == user.id, Tag.note_count > 0)
        .order_by(Tag.name_key)
        # A Tag already in the session holds the count it was loaded with; the triggers may have moved it since.
        .execution_options(populate_existing=True)
    )


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
