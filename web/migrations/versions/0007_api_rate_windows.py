"""api rate windows: per-token and per-user API call limits

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 10:30:00

One row per limited key (a token, a user) holding the calls counted in its
current fixed window, so every worker and replica counts the same calls
(app/limits/windows.py).

UNLOGGED on PostgreSQL: every API call writes here, reads included, and a
logged table would make each of them wait for a WAL flush to disk
(docs/performance.md, "API rate limits"). What that gives up: after a crash
the table starts empty, and standbys have no copy; either way counting
starts over, which lets a caller at most one window's quota more.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    unlogged = ["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_table(
        "api_rate_windows",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        prefixes=unlogged,
    )


def downgrade():
    op.drop_table("api_rate_windows")
