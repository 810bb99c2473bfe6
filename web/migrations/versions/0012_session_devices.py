"""login sessions remember their device: user_agent and ip

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 11:30:00

The account page lists a user's login sessions with the device (named from
the User-Agent) and the address each came from. Sessions started before
this revision have neither (NULL).
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE ADD COLUMN: nullable columns need no table copy, on
    # SQLite nor on PostgreSQL.
    op.add_column("login_sessions", sa.Column("user_agent", sa.String(length=255), nullable=True))
    op.add_column("login_sessions", sa.Column("ip", sa.String(length=45), nullable=True))


def downgrade():
    # SQLite 3.35+ drops a column in place; a batch would copy the table.
    op.execute("ALTER TABLE login_sessions DROP COLUMN ip")
    op.execute("ALTER TABLE login_sessions DROP COLUMN user_agent")
