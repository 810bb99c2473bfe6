"""tags and full-text search

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 20:30:00

The search objects are not models: on Postgres a generated tsvector column
with a GIN index (plus trigram indexes for the substring fallback), on SQLite
an FTS5 table kept in step by triggers. The statements are copied here, not
imported, so this migration stays as it was when written.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE = [
    "CREATE VIRTUAL TABLE notes_fts USING fts5(title, content, content='notes', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER notes_fts_ai AFTER INSERT ON notes BEGIN "
    "INSERT INTO notes_fts(rowid, title, content) VALUES (new.id, new.title, new.content); END",
    "CREATE TRIGGER notes_fts_ad AFTER DELETE ON notes BEGIN "
    "INSERT INTO notes_fts(notes_fts, rowid, title, content) VALUES ('delete', old.id, old.title, old.content); END",
    "CREATE TRIGGER notes_fts_au AFTER UPDATE OF title, content ON notes BEGIN "
    "INSERT INTO notes_fts(notes_fts, rowid, title, content) VALUES ('delete', old.id, old.title, old.content); "
    "INSERT INTO notes_fts(rowid, title, content) VALUES (new.id, new.title, new.content); END",
    # Index the notes that already exist.
    "INSERT INTO notes_fts(notes_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS notes_fts_au",
    "DROP TRIGGER IF EXISTS notes_fts_ad",
    "DROP TRIGGER IF EXISTS notes_fts_ai",
    "DROP TABLE IF EXISTS notes_fts",
]
POSTGRES = [
    # pg_trgm is a trusted extension: the database owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE notes ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(content, '')), 'B')) STORED",
    "CREATE INDEX ix_notes_search ON notes USING gin (search_vector)",
    "CREATE INDEX ix_notes_title_trgm ON notes USING gin (title gin_trgm_ops)",
    "CREATE INDEX ix_notes_content_trgm ON notes USING gin (content gin_trgm_ops)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_notes_content_trgm",
    "DROP INDEX IF EXISTS ix_notes_title_trgm",
    "DROP INDEX IF EXISTS ix_notes_search",
    "ALTER TABLE notes DROP COLUMN IF EXISTS search_vector",
]


def upgrade():
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_tags_owner_name_key", "tags", ["owner_id", "name_key"], unique=True)
    op.create_table(
        "note_tags",
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["note_id"], ["notes.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("note_id", "tag_id"),
    )
    op.create_index("ix_note_tags_tag_id", "note_tags", ["tag_id"], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE, "postgresql": POSTGRES}.get(dialect, []):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}.get(dialect, []):
        op.execute(statement)
    op.drop_index("ix_note_tags_tag_id", table_name="note_tags")
    op.drop_table("note_tags")
    op.drop_index("uq_tags_owner_name_key", table_name="tags")
    op.drop_table("tags")
