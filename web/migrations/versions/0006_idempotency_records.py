"""idempotency records: Idempotency-Key on the API's creating POSTs

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 09:30:00

One row per key a caller sent, written in the same transaction as the
request's changes; the unique index makes a key count once (app/http/idempotency.py).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "idempotency_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.create_index("uq_idempotency_owner_key", ["owner_id", "key_hash"], unique=True)
        batch_op.create_index("ix_idempotency_created", ["created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotency_created")
        batch_op.drop_index("uq_idempotency_owner_key")

    op.drop_table("idempotency_records")
