"""tag counts per statement: PostgreSQL counts a statement's tag links once

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 02:10:00

Migration 0017's row-level trigger on note_tags updated the same few tag rows
once per link. An import of 100,000 notes then made each of those rows a chain
of thousands of versions within its one transaction, and every update walked
the chain (150 s; docs/performance.md). These triggers count the links a
statement added or removed once, from its transition tables, with the same
result (app/notes/tag_counts.py; these are the same statements, copied so that
this migration never changes). The counts stay as they are. SQLite keeps its
row-level triggers: it has no statement-level ones, and no row versions.
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

ROW_LEVEL_FUNCTION = """CREATE FUNCTION notes_count_tag_links() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$"""
ROW_LEVEL = [
    ROW_LEVEL_FUNCTION,
    "CREATE TRIGGER note_tags_count AFTER INSERT OR UPDATE OR DELETE ON note_tags "
    "FOR EACH ROW EXECUTE FUNCTION notes_count_tag_links()",
]
ROW_LEVEL_DROP = [
    "DROP TRIGGER note_tags_count ON note_tags",
    "DROP FUNCTION notes_count_tag_links()",
]
STATEMENT_LEVEL = [
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
    "CREATE TRIGGER note_tags_count_insert AFTER INSERT ON note_tags REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION notes_count_tag_links()",
    "CREATE TRIGGER note_tags_count_delete AFTER DELETE ON note_tags REFERENCING OLD TABLE AS removed "
    "FOR EACH STATEMENT EXECUTE FUNCTION notes_count_tag_links()",
    "CREATE TRIGGER note_tags_count_update AFTER UPDATE ON note_tags REFERENCING OLD TABLE AS removed "
    "NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION notes_count_tag_links()",
]
STATEMENT_LEVEL_DROP = [
    "DROP TRIGGER note_tags_count_update ON note_tags",
    "DROP TRIGGER note_tags_count_delete ON note_tags",
    "DROP TRIGGER note_tags_count_insert ON note_tags",
    "DROP FUNCTION notes_count_tag_links()",
]


def upgrade():
    # One transaction: no write falls between the old triggers and the new.
    if op.get_bind().dialect.name == "postgresql":
        for statement in ROW_LEVEL_DROP + STATEMENT_LEVEL:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in STATEMENT_LEVEL_DROP + ROW_LEVEL:
            op.execute(statement)
