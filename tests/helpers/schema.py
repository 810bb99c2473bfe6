"""Test databases built by ``db.create_all()`` that carry the head revision, as a migrated one does."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from app.db.schema import code_revisions
from app.models import db


def create_schema() -> None:
    """``db.create_all()`` in the current app's database, then its version table holding the head.

    /readyz compares that table with the migrations; without it a test app
    would be a database never migrated, and not ready. The table stays out of
    ``db.metadata``, so emptying the tables between tests leaves it alone.
    """
    db.create_all()
    revisions = code_revisions(current_app)
    version = sa.Table(
        revisions.version_table,
        sa.MetaData(),
        sa.Column("version_num", sa.String(32), primary_key=True),
    )
    with db.engine.begin() as connection:
        version.create(connection, checkfirst=True)
        connection.execute(version.delete())
        connection.execute(version.insert().values(version_num=revisions.head))
