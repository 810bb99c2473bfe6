"""Notes queries and changes shared by the HTML pages and the JSON API.

``get_owned_note`` is the one ownership check: every route that takes a
note id goes through it, so another user's note is always NoteNotFound (a
404). Functions here return results or raise domain errors; they never
answer HTTP.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import defer, joinedload
from sqlalchemy.orm.exc import StaleDataError

from ..accounts.models import Owner, User
from ..db.types import is_valid_id, utcnow
from ..domain import ConflictError, NotFoundError
from ..extensions import db
from ..http.pagination import decode_cursor, encode_cursor
from .attachments import forget_files
from .history import Editor, Snapshot, record
from .models import Attachment, Note, NoteRevision, Tag, note_tags
from .rules import tag_key
from .search import SearchHit, search_notes
from .tags import assign_tags, delete_unused_tags

# Pinned first, then most recently updated; id breaks ties so the order is total.
_SORT_COLUMNS = (Note.pinned, Note.updated_at, Note.id)
_SORT_KINDS = (bool, datetime, int)


class NoteNotFound(NotFoundError):
    """No such note of this owner's, or not in the state asked for (in or out of the trash)."""


class EditConflict(ConflictError):
    """Someone else changed the note since it was read; nothing was written."""

    def __init__(self, message: str = "The note changed since you read it") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class Page:
    items: list[Note]
    next_cursor: str | None


@dataclass(frozen=True)
class RowPage:
    items: list[sa.Row[Any]]
    next_cursor: str | None


_WITH_TAGS = joinedload(Note.tags)


def get_owned_note(note_id: int, user: Owner, *, trashed: bool | None = None) -> Note:
    """The note ``note_id`` if ``user`` owns it; NoteNotFound otherwise.

    With ``trashed`` True or False, a note in the other state is also
    NoteNotFound. Another user's note is "not found" rather than "forbidden"
    so that nobody learns which ids exist.
    """
    # Its tags in the same statement: every caller shows or changes them, and
    # the relationship's own selectin load would cost a second round trip.
    note = db.session.get(Note, note_id, options=[_WITH_TAGS]) if is_valid_id(note_id) else None
    if note is None or note.owner_id != user.id:
        raise NoteNotFound("No such note. It may have been deleted, or it belongs to someone else.")
    if trashed is not None and note.in_trash != trashed:
        where = "in the trash" if note.in_trash else "not in the trash"
        raise NoteNotFound(f"This note is {where}.")
    return note


def page_params(user: Owner, tags: list[str] | None, cursor: str | None, limit: int) -> dict[str, Any]:
    """The values for ``page_statement``'s bound parameters. Raises CursorError."""
    params: dict[str, Any] = {"owner_id": user.id, "limit": limit + 1}
    for i, name in enumerate(tags or []):
        params[f"tag_{i}"] = tag_key(name)
    if cursor:
        for i, value in enumerate(decode_cursor(cursor, _SORT_KINDS)):
            params[f"after_{i}"] = value
    return params


@functools.lru_cache(maxsize=256)
def page_statement(
    shape: str, dialect: str, archived: bool | None, trashed: bool, pinned: bool | None, n_tags: int, *, cursor: bool
) -> sa.Select[Any]:
    """One keyset page (plus one row, to tell if more follow), values left as bound parameters.

    ``shape`` is "notes" (Note objects, for list_notes) or "rows" (the API's
    columns and tag names, for list_note_rows). Parameters: owner_id, limit,
    tag_0..tag_<n_tags-1> (name keys) and, with a cursor, after_0..after_2
    (its sort key); ``page_params`` fills them. Statements are immutable, so
    one object serves every request of a kind; building it per request was a
    measurable share of the API list's CPU time (docs/performance.md, "What
    was tuned"). The kinds
    are few (a note has at most 20 tags); the LRU bound keeps the cache small.
    """
    owner = sa.bindparam("owner_id", type_=Note.owner_id.type)
    tag_keys = [sa.bindparam(f"tag_{i}", type_=Tag.name_key.type) for i in range(n_tags)]
    select = (
        # A list shows the stored excerpt, not the text: leave the content (up to
        # 100,000 characters a note) in the database unless a caller asks for it.
        sa.select(Note).options(defer(Note.content))
        if shape == "notes"
        else sa.select(*_ROW_COLUMNS, _tag_names_column(dialect).label("tag_names"))
    )
    query = select.where(*_filters(owner, archived=archived, trashed=trashed, pinned=pinned, tag_keys=tag_keys))
    if cursor:
        bounds = [sa.bindparam(f"after_{i}", type_=col.type) for i, col in enumerate(_SORT_COLUMNS)]
        query = query.where(sa.tuple_(*_SORT_COLUMNS) < sa.tuple_(*bounds))
    return query.order_by(*(col.desc() for col in _SORT_COLUMNS)).limit(sa.bindparam("limit", type_=sa.Integer))


def next_cursor(rows: list[Any], limit: int) -> str | None:
    """The cursor after a page of ``limit`` rows, when ``rows`` (fetched with one more) show more follow."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor((last.pinned, last.updated_at, last.id))


def list_notes(
    user: Owner,
    *,
    archived: bool | None = False,
    trashed: bool = False,
    pinned: bool | None = None,
    tags: list[str] | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Page:
    """One page of ``user``'s notes matching the filters, pinned first.

    Raises app.http.pagination.CursorError for a cursor this app did not make.
    """
    params = page_params(user, tags, cursor, limit)
    query = page_statement(
        "notes", db.engine.dialect.name, archived, trashed, pinned, len(tags or ()), cursor=bool(cursor)
    )
    rows = list(db.session.scalars(query, params))
    return Page(rows[:limit], next_cursor(rows, limit))


# The columns the API shows, and a note's tag names as one string: names
# cannot contain commas (rules.clean_tag_name), so a comma joins them unambiguously.
_ROW_COLUMNS = (
    Note.id,
    Note.title,
    Note.content,
    Note.pinned,
    Note.archived,
    Note.deleted_at,
    Note.created_at,
    Note.updated_at,
    Note.version,
)


@functools.cache
def _tag_names_column(dialect: str) -> sa.ScalarSelect[Any]:
    """A note's tag names joined by commas, in the order of Note.tags (name_key).

    Built once per dialect: statements are immutable, and building this one
    for every API list request cost a measurable share of its CPU
    (docs/performance.md, "What was tuned").
    """
    linked = (note_tags.c.note_id == Note.id, Tag.id == note_tags.c.tag_id)
    if dialect == "postgresql":
        joined = sa.aggregate_order_by(sa.func.aggregate_strings(Tag.name, ","), Tag.name_key)
        return sa.select(joined).where(*linked).scalar_subquery()
    # SQLite before 3.44 has no ORDER BY inside an aggregate; group_concat
    # takes the rows in the order an ordered subquery yields them.
    ordered = sa.select(Tag.name).where(*linked).order_by(Tag.name_key).correlate(Note).subquery()
    return sa.select(sa.func.aggregate_strings(ordered.c.name, ",")).scalar_subquery()


def list_note_rows(
    user: Owner,
    *,
    archived: bool | None = False,
    trashed: bool = False,
    pinned: bool | None = None,
    tags: list[str] | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> RowPage:
    """The page ``list_notes`` returns, as plain rows with a ``tag_names`` column.

    One query and no ORM objects: the JSON API's list needs only the values,
    and building objects (and loading their tags in a second query) was most
    of its CPU time (docs/performance.md, "What was tuned"). The
    statement is built once per kind of page (``page_statement``) and runs on the session's
    connection without the ORM's result machinery. Raises CursorError as
    list_notes does.
    """
    params = page_params(user, tags, cursor, limit)
    query = page_statement(
        "rows", db.engine.dialect.name, archived, trashed, pinned, len(tags or ()), cursor=bool(cursor)
    )
    db.session.flush()  # what the ORM's autoflush would do before a query
    rows = list(db.session.connection().execute(query, params))
    return RowPage(rows[:limit], next_cursor(rows, limit))


def note_filters(
    user: Owner,
    *,
    archived: bool | None = False,
    trashed: bool = False,
    pinned: bool | None = None,
    tags: list[str] | None = None,
) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses for ``user``'s notes in one view, shared by lists and search.

    With several ``tags`` a note must have all of them (names ignore case).
    """
    keys = [tag_key(name) for name in tags or []]
    return _filters(user.id, archived=archived, trashed=trashed, pinned=pinned, tag_keys=keys)


def _filters(
    owner_id: Any, *, archived: bool | None, trashed: bool, pinned: bool | None, tag_keys: list[Any]
) -> list[sa.ColumnElement[bool]]:
    """note_filters' clauses; ``owner_id`` and ``tag_keys`` are values or bound parameters."""
    clauses: list[sa.ColumnElement[bool]] = [
        Note.owner_id == owner_id,
        Note.deleted_at.is_not(None) if trashed else Note.deleted_at.is_(None),
    ]
    if archived is not None:
        clauses.append(Note.archived == archived)
    if pinned is not None:
        clauses.append(Note.pinned == pinned)
    for key in tag_keys:
        clauses.append(
            sa.exists()
            .where(note_tags.c.note_id == Note.id, note_tags.c.tag_id == Tag.id)
            .where(Tag.owner_id == owner_id, Tag.name_key == key)
        )
    return clauses


def search(user: Owner, query: str, *, limit: int = 20, **filters: Any) -> list[SearchHit]:
    """Ranked matches for ``query`` among ``user``'s notes in the view ``filters`` select."""
    return search_notes(note_filters(user, **filters), query, limit=limit)


def create_note(
    user: Owner,
    title: str,
    content: str = "",
    *,
    pinned: bool = False,
    archived: bool = False,
    tags: list[str] | None = None,
    commit: bool = True,
) -> Note:
    """Create a note and commit it; ``tags`` are names, already cleaned (rules.clean_tag_list).

    With ``commit`` False it is only flushed (it has its id and defaults), for a
    caller that commits it together with more (an Idempotency-Key's answer).
    """
    # A User may be new and not yet have an id; an API caller always has one.
    owner: dict[str, Any] = {"owner": user} if isinstance(user, User) else {"owner_id": user.id}
    note = Note(**owner, title=title, content=content, pinned=pinned, archived=archived)
    db.session.add(note)
    if tags:
        assign_tags(note, tags)
    _commit_or_flush(commit)
    return note


def _commit_or_flush(commit: bool) -> None:
    if commit:
        db.session.commit()
    else:
        db.session.flush()


def update_note(
    note: Note,
    changes: dict[str, Any],
    expected_version: int | None = None,
    editor: Editor | None = None,
    *,
    restored_from: int | None = None,
) -> Note:
    """Apply ``changes`` (fields, and ``tags`` as a list of names) and commit.

    A change of title, content or tags keeps the note as it was as a
    revision, or folds into the latest one (app.notes.history: ``editor`` is
    who saves and through which client). Raises EditConflict when
    ``expected_version`` is given and stale, or when another writer commits
    first; the note (and its history) is then left as that writer left it.
    """
    if expected_version is not None and note.version != expected_version:
        raise EditConflict
    before = Snapshot.of(note)
    changes = dict(changes)
    tags = changes.pop("tags", None)
    for field, value in changes.items():
        setattr(note, field, value)
    if tags is not None:
        assign_tags(note, tags)
    record(note, before, editor, restored_from=restored_from)
    try:
        db.session.commit()
    except StaleDataError as exc:
        db.session.rollback()
        raise EditConflict from exc
    if tags is not None:
        delete_unused_tags(note.owner_id)
        db.session.commit()
    return note


def restore_revision(
    note: Note, revision: NoteRevision, expected_version: int | None = None, editor: Editor | None = None
) -> Note:
    """Make ``revision``'s title, content and tags the note's again, as a new version.

    The version it replaces becomes a revision like any save's; history is
    never rewritten. Raises EditConflict as ``update_note`` does, changing
    nothing. Restoring what the note already holds changes nothing.
    """
    changes = {"title": revision.title, "content": revision.content, "tags": revision.tag_names}
    return update_note(note, changes, expected_version, editor, restored_from=revision.id)


def trash_note(note: Note, expected_version: int | None = None) -> Note:
    return update_note(note, {"deleted_at": utcnow()}, expected_version)


def restore_note(note: Note, expected_version: int | None = None) -> Note:
    return update_note(note, {"deleted_at": None}, expected_version)


def purge_note(note: Note, expected_version: int | None = None) -> None:
    """Delete a note forever, and any tag only it had.

    Raises EditConflict, deleting nothing, when ``expected_version`` is given and stale.
    """
    if expected_version is not None and note.version != expected_version:
        raise EditConflict
    owner_id = note.owner_id
    db.session.delete(note)
    db.session.flush()
    delete_unused_tags(owner_id)
    db.session.commit()


def purge_expired_trash(older_than: timedelta, *, now: datetime | None = None) -> int:
    """Delete forever every note (of every user) trashed longer than ``older_than`` ago.

    Returns how many; tags left without notes go too, and their files' bytes. Meant for a schedule
    (`flask notes purge-trash`), so it commits in one transaction.
    """
    cutoff = (now or utcnow()) - older_than
    expired = Note.deleted_at.is_not(None) & (Note.deleted_at < cutoff)
    owner_ids = db.session.scalars(sa.select(Note.owner_id).where(expired).distinct()).all()
    # A bulk delete the session hooks cannot see: name the files it takes with it.
    forget_files(db.session.scalars(sa.select(Attachment.key).join(Note, Note.id == Attachment.note_id).where(expired)))
    result = db.session.execute(sa.delete(Note).where(expired))
    for owner_id in owner_ids:
        delete_unused_tags(owner_id)
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
