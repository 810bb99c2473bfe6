"""note excerpts: what the lists show of a note, stored with it

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 23:40:00

notes.excerpt is the note's text as the lists show it (Markdown rendered,
sanitized, reduced to plain words, 160 characters at most), made when the
content is written instead of on every list page; notes.excerpt_version
says which renderer made it (app/notes/markdown.py, EXCERPT_VERSION), and a
list computes a stale one afresh. The upgrade fills both for every note in
batches with the app's own renderer; the downgrade drops the columns.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BATCH = 500


def upgrade():
    # Plain ALTER TABLE, never batch mode: on SQLite a batch copy of `notes`
    # would drop the full-text search triggers that hang on it.
    op.add_column("notes", sa.Column("excerpt", sa.String(length=160), nullable=False, server_default=""))
    op.add_column("notes", sa.Column("excerpt_version", sa.SmallInteger(), nullable=False, server_default="0"))

    # The renderer the app runs now: what a save would store.
    from app.notes.models import excerpt_columns

    connection = op.get_bind()
    notes = sa.table(
        "notes",
        sa.column("id", sa.Integer),
        sa.column("content", sa.Text),
        sa.column("excerpt", sa.String),
        sa.column("excerpt_version", sa.SmallInteger),
    )
    after = 0
    while True:
        rows = connection.execute(
            sa.select(notes.c.id, notes.c.content).where(notes.c.id > after).order_by(notes.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            notes.update()
            .where(notes.c.id == sa.bindparam("b_id"))
            .values(excerpt=sa.bindparam("b_excerpt"), excerpt_version=sa.bindparam("b_version")),
            [
                {"b_id": row.id, "b_excerpt": columns["excerpt"], "b_version": columns["excerpt_version"]}
                for row in rows
                for columns in [excerpt_columns(row.content or "")]
            ],
        )
        after = rows[-1].id


def downgrade():
    # SQLite 3.35+ drops a column in place (ALTER TABLE ... DROP COLUMN).
    op.drop_column("notes", "excerpt_version")
    op.drop_column("notes", "excerpt")
