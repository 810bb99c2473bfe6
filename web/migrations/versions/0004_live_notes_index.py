"""partial index on live notes per owner

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 21:30:00

Tag counts for the sidebar read one owner's live note ids; without this
index Postgres scanned every user's notes (200 ms per page for a user with
1,000 notes next to one with 100,000; docs/performance.md).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_notes_owner_live",
        "notes",
        ["owner_id", "id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
        sqlite_where=sa.text("deleted_at IS NULL"),
    )


def downgrade():
    op.drop_index("ix_notes_owner_live", table_name="notes")
