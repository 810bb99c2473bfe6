"""note attachments: files added to a note

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 23:05:00

note_attachments describes the files added to notes (app/notes/attachments.py):
a random key (the file's name in storage), the name it came with, the type
found from its bytes, its size and SHA-256. The bytes themselves live in the
attachment storage, not in the database. Rows go with their note and owner
(ON DELETE CASCADE). A new table only.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "note_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["note_id"], ["notes.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_note_attachments_note", "note_attachments", ["note_id", "id"])
    op.create_index("ix_note_attachments_owner", "note_attachments", ["owner_id"])


def downgrade():
    op.drop_index("ix_note_attachments_owner", table_name="note_attachments")
    op.drop_index("ix_note_attachments_note", table_name="note_attachments")
    op.drop_table("note_attachments")
