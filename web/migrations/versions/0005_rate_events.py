"""rate events: per-user limits on imports and exports

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 09:00:00

One row per use of something limited (app/limits/), so every worker and
replica counts the same uses.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rate_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rate_events", schema=None) as batch_op:
        batch_op.create_index("ix_rate_events_key_created", ["key", "created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("rate_events", schema=None) as batch_op:
        batch_op.drop_index("ix_rate_events_key_created")

    op.drop_table("rate_events")
