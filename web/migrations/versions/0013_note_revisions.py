"""note revisions: every save that changes a note keeps the version it replaced

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 14:30:00

note_revisions holds a note's earlier versions (title, content, tag names)
and the save that replaced each (app/notes/history.py). Rows go with their
note (ON DELETE CASCADE), so purging a note purges its history; the author
is only SET NULL, since a revision belongs to the note, not to whoever
saved. A new table only: notes is not altered, and existing notes start
with an empty history.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "note_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("note_version", sa.Integer(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_save_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["note_id"], ["notes.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_note_revisions_note", "note_revisions", ["note_id", "id"], unique=False)
    op.create_index("ix_note_revisions_last_save_at", "note_revisions", ["last_save_at"], unique=False)


def downgrade():
    op.drop_index("ix_note_revisions_last_save_at", table_name="note_revisions")
    op.drop_index("ix_note_revisions_note", table_name="note_revisions")
    op.drop_table("note_revisions")
