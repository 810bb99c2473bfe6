"""Each tag's number of live notes, kept in step by the database itself.

The sidebar shows every tag with its count. Counting on each page grows
with the account (71 ms of database time for 100,000 notes,
docs/performance.md), so ``tags.note_count`` holds the count and triggers
keep it right on every write, whichever code makes it (a save, a trash or
restore, an import's bulk INSERT, a merge, a purge, a cascade from a deleted
account):

- a row added to note_tags counts +1 for its tag, a row removed -1, when
  the note is live; an UPDATE of a row is both;
- a note going into the trash counts -1 for each of its tags, coming back +1;
- a live note deleted counts -1 for each of its tags before it goes (its
  note_tags rows then go by cascade, and no longer find a live note),
  unless it goes with its account, whose tags go too.

The same rules in PostgreSQL (plpgsql; the links once per statement) and
SQLite (once per row); migrations 0017 and 0018 hold the same statements for
databases built by `flask db upgrade`, and
``db.create_all()`` gets them from ``init_app``.
tests/integration/notes/test_tag_counts.py and tests/e2e/test_tag_counts.py
check that the counts equal a recount after every kind of write.
"""

from __future__ import annotations

import sqlalchemy as sa

from .models import note_tags

# PostgreSQL counts the links a statement added or removed once per
# statement, from its transition tables: a row-level trigger updated the
# same few tag rows once per link, and a large import made each of those
# rows a chain of versions within its transaction, every update walking the
# chain (docs/performance.md, "The pages people look at").
POSTGRES_DDL = [
    """CREATE FUNCTION notes_count_tag_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE tags SET note_count = note_count - gone.n
      FROM (SELECT removed.tag_id, count(*) AS n FROM removed JOIN notes ON notes.id = removed.note_id
             WHERE notes.deleted_at IS NULL GROUP BY removed.tag_id) AS gone
     WHERE tags.id = gone.tag_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE tags SET note_count = note_count + came.n
      FROM (SELECT added.tag_id, count(*) AS n FROM added JOIN notes ON notes.id = added.note_id
             WHERE notes.deleted_at IS NULL GROUP BY added.tag_id) AS came
     WHERE tags.id = came.tag_id;
  END IF;
  RETURN NULL;
END $$""",
    # A trigger with transition tables has one event.
    "CREATE TRIGGER note_tags_count_insert AFTER INSERT ON note_tags REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION notes_count_tag_links()",
    "CREATE TRIGGER note_tags_count_delete AFTER DELETE ON note_tags REFERENCING OLD TABLE AS removed "
    "FOR EACH STATEMENT EXECUTE FUNCTION notes_count_tag_links()",
    "CREATE TRIGGER note_tags_count_update AFTER UPDATE ON note_tags REFERENCING OLD TABLE AS removed "
    "NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION notes_count_tag_links()",
    """CREATE FUNCTION notes_count_trash() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    -- Not when the note goes with its account: the account's tags go too, and
    -- an UPDATE of them would check their owner, already gone.
    IF OLD.deleted_at IS NULL AND EXISTS (SELECT 1 FROM users WHERE id = OLD.owner_id) THEN
      UPDATE tags SET note_count = note_count - 1
       WHERE id IN (SELECT tag_id FROM note_tags WHERE note_id = OLD.id);
    END IF;
    RETURN OLD;
  END IF;
  IF (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) THEN
    UPDATE tags SET note_count = note_count + (CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END)
     WHERE id IN (SELECT tag_id FROM note_tags WHERE note_id = NEW.id);
  END IF;
  RETURN NEW;
END $$""",
    "CREATE TRIGGER notes_trash_count AFTER UPDATE OF deleted_at ON notes "
    "FOR EACH ROW EXECUTE FUNCTION notes_count_trash()",
    "CREATE TRIGGER notes_delete_count BEFORE DELETE ON notes FOR EACH ROW EXECUTE FUNCTION notes_count_trash()",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS notes_delete_count ON notes",
    "DROP TRIGGER IF EXISTS notes_trash_count ON notes",
    "DROP TRIGGER IF EXISTS note_tags_count_update ON note_tags",
    "DROP TRIGGER IF EXISTS note_tags_count_delete ON note_tags",
    "DROP TRIGGER IF EXISTS note_tags_count_insert ON note_tags",
    "DROP TRIGGER IF EXISTS note_tags_count ON note_tags",  # migration 0017's, in a database made before 0018
    "DROP FUNCTION IF EXISTS notes_count_trash()",
    "DROP FUNCTION IF EXISTS notes_count_tag_links()",
]

SQLITE_DDL = [
    "CREATE TRIGGER note_tags_count_ai AFTER INSERT ON note_tags "
    "WHEN EXISTS (SELECT 1 FROM notes WHERE id = NEW.note_id AND deleted_at IS NULL) BEGIN "
    "UPDATE tags SET note_count = note_count + 1 WHERE id = NEW.tag_id; END",
    "CREATE TRIGGER note_tags_count_ad AFTER DELETE ON note_tags "
    "WHEN EXISTS (SELECT 1 FROM notes WHERE id = OLD.note_id AND deleted_at IS NULL) BEGIN "
    "UPDATE tags SET note_count = note_count - 1 WHERE id = OLD.tag_id; END",
    "CREATE TRIGGER note_tags_count_au AFTER UPDATE ON note_tags BEGIN "
    "UPDATE tags SET note_count = note_count - 1 WHERE id = OLD.tag_id "
    "AND EXISTS (SELECT 1 FROM notes WHERE id = OLD.note_id AND deleted_at IS NULL); "
    "UPDATE tags SET note_count = note_count + 1 WHERE id = NEW.tag_id "
    "AND EXISTS (SELECT 1 FROM notes WHERE id = NEW.note_id AND deleted_at IS NULL); END",
    "CREATE TRIGGER notes_trash_count AFTER UPDATE OF deleted_at ON notes "
    "WHEN (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) BEGIN "
    "UPDATE tags SET note_count = note_count + (CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END) "
    "WHERE id IN (SELECT tag_id FROM note_tags WHERE note_id = NEW.id); END",
    "CREATE TRIGGER notes_delete_count BEFORE DELETE ON notes "
    "WHEN OLD.deleted_at IS NULL AND EXISTS (SELECT 1 FROM users WHERE id = OLD.owner_id) BEGIN "
    "UPDATE tags SET note_count = note_count - 1 "
    "WHERE id IN (SELECT tag_id FROM note_tags WHERE note_id = OLD.id); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS notes_delete_count",
    "DROP TRIGGER IF EXISTS notes_trash_count",
    "DROP TRIGGER IF EXISTS note_tags_count_au",
    "DROP TRIGGER IF EXISTS note_tags_count_ad",
    "DROP TRIGGER IF EXISTS note_tags_count_ai",
]

# What recounts every tag's live notes: the migration's fill, and the tests' check.
RECOUNT = (
    "UPDATE tags SET note_count = (SELECT count(*) FROM note_tags JOIN notes ON notes.id = note_tags.note_id "
    "WHERE note_tags.tag_id = tags.id AND notes.deleted_at IS NULL)"
)


def _create(target: sa.Table, connection: sa.Connection, **kw: object) -> None:
    for statement in {"sqlite": SQLITE_DDL, "postgresql": POSTGRES_DDL}.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)


def _drop(target: sa.Table, connection: sa.Connection, **kw: object) -> None:
    for statement in {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)


def init_app() -> None:
    """Make ``db.create_all()`` create the triggers once the tables they watch exist, and
    ``drop_all()`` remove them first. The table is one per process: registering again changes nothing."""
    # note_tags is created after notes and tags (it refers to both), and dropped before them.
    for event, listener in (("after_create", _create), ("before_drop", _drop)):
        if not sa.event.contains(note_tags, event, listener):
            sa.event.listen(note_tags, event, listener)
