"""note shares: read-only links to a note

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 20:15:00

note_shares holds the links an owner made to let anyone read one note
(app/notes/sharing.py): the SHA-256 of the link's secret (never the
secret), when it expires and when it was revoked. Rows go with their note
(ON DELETE CASCADE). A new table only.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "note_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["note_id"], ["notes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_note_shares_note", "note_shares", ["note_id", "id"])


def downgrade():
    op.drop_index("ix_note_shares_note", table_name="note_shares")
    op.drop_table("note_shares")
