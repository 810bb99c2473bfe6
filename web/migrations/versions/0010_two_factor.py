"""two-factor login: TOTP secrets, recovery codes, logins waiting for a code

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 11:10:00

users gain totp_secret (encrypted), totp_enabled_at and totp_last_step (the
last accepted time step, so a code is never taken twice); recovery_codes hold
hashed single-use codes; two_factor_challenges are logins whose password was
right, waiting for the code.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE, not a batch: on SQLite a batch copies the table and
    # would lose the lower(email) unique index, which it cannot reflect.
    op.add_column("users", sa.Column("totp_secret", sa.String(length=255), nullable=True))
    op.add_column("users", sa.Column("totp_enabled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "code_hash", name="uq_recovery_codes_user_hash"),
    )
    op.create_table(
        "two_factor_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("remember", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_two_factor_challenges_user_id", "two_factor_challenges", ["user_id"], unique=False)


def downgrade():
    op.drop_index("ix_two_factor_challenges_user_id", table_name="two_factor_challenges")
    op.drop_table("two_factor_challenges")
    op.drop_table("recovery_codes")
    # SQLite 3.35+ drops a column in place (see upgrade for why no batch).
    op.execute("ALTER TABLE users DROP COLUMN totp_last_step")
    op.execute("ALTER TABLE users DROP COLUMN totp_enabled_at")
    op.execute("ALTER TABLE users DROP COLUMN totp_secret")
