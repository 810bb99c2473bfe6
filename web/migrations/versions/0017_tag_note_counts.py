"""tag note counts: each tag's number of live notes, kept by triggers

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 23:50:00

tags.note_count holds how many live (not trashed) notes have the tag, so
the sidebar reads it instead of counting the account's notes on every page.
Triggers on note_tags and notes keep it in step with every write
(app/notes/tag_counts.py says how; these are the same statements, copied
so that this migration never changes). The upgrade fills it with a
recount; the downgrade drops the triggers and the column.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

POSTGRES_DDL = [
    """CREATE FUNCTION notes_count_tag_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE tags SET note_count = note_count - 1
     WHERE id = OLD.tag_id AND EXISTS (SELECT 1 FROM notes WHERE id = OLD.note_id AND deleted_at IS NULL);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE tags SET note_count = note_count + 1
     WHERE id = NEW.tag_id AND EXISTS (SELECT 1 FROM notes WHERE id = NEW.note_id AND deleted_at IS NULL);
  END IF;
  RETURN NULL;
END $$""",
    "CREATE TRIGGER note_tags_count AFTER INSERT OR UPDATE OR DELETE ON note_tags "
    "FOR EACH ROW EXECUTE FUNCTION notes_count_tag_links()",
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
    "DROP TRIGGER IF EXISTS note_tags_count ON note_tags",
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
RECOUNT = (
    "UPDATE tags SET note_count = (SELECT count(*) FROM note_tags JOIN notes ON notes.id = note_tags.note_id "
    "WHERE note_tags.tag_id = tags.id AND notes.deleted_at IS NULL)"
)


def upgrade():
    op.add_column("tags", sa.Column("note_count", sa.Integer(), nullable=False, server_default="0"))
    connection = op.get_bind()
    # Triggers first, then the recount, in one transaction: no write can fall between them.
    for statement in {"sqlite": SQLITE_DDL, "postgresql": POSTGRES_DDL}.get(connection.dialect.name, []):
        op.execute(statement)
    op.execute(RECOUNT)


def downgrade():
    connection = op.get_bind()
    for statement in {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(connection.dialect.name, []):
        op.execute(statement)
    op.drop_column("tags", "note_count")
