"""Whether the database's schema is as new as this code: what /readyz adds to "the database answers".

During a rolling update new replicas start while `flask deploy migrate`
may not have run yet; one that took traffic then would fail on every query
touching a new column. Migrations are written expand/contract, so old code
keeps working on a newer schema: a revision this code does not know means a
newer release migrated the database, and the replica is still ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy.orm import Session, scoped_session

from . import errors

DEFAULT_VERSION_TABLE = "alembic_version"
_EXTENSION_KEY = "notes.schema_revisions"


@dataclass(frozen=True)
class CodeRevisions:
    """The revisions of this code's migrations: every one of them, and the newest."""

    head: str
    known: frozenset[str]
    version_table: str


@dataclass(frozen=True)
class SchemaState:
    """The database's revision against this code's head.

    ``schema`` is "current" (the head), "behind" (no revision, or an older
    one this code knows: the migration has not run) or "ahead" (a revision
    this code does not know: a newer release migrated it).
    """

    schema: Literal["current", "behind", "ahead"]
    revision: str | None
    head: str

    @property
    def ready(self) -> bool:
        return self.schema != "behind"


def code_revisions(app: Flask) -> CodeRevisions:
    """The revisions in ``app``'s migrations directory, read on first use and kept in ``app.extensions``.

    Read lazily so that importing the app or building it reads no files a
    command may not need. Raises alembic's CommandError when the directory
    is not a migrations directory or has several heads (a merge migration is
    missing), which `flask db upgrade` refuses too, and RuntimeError when it
    holds no migration at all.
    """
    found: CodeRevisions | None = app.extensions.get(_EXTENSION_KEY)
    if found is None:
        migrate = app.extensions["migrate"]
        script = ScriptDirectory(migrate.directory)
        head = script.get_current_head()
        if head is None:
            raise RuntimeError(f"no migrations in {migrate.directory}; the app cannot tell whether its schema is there")
        found = CodeRevisions(
            head=head,
            known=frozenset(revision.revision for revision in script.walk_revisions()),
            version_table=migrate.configure_args.get("version_table", DEFAULT_VERSION_TABLE),
        )
        # Two threads may both get here at first use; they store the same thing.
        app.extensions[_EXTENSION_KEY] = found
    return found


def schema_state(app: Flask, session: Session | scoped_session[Any]) -> SchemaState:
    """Where the database behind ``session`` stands against ``app``'s migrations: one query when the table is there.

    Raises SQLAlchemyError when the database cannot be asked (unreachable,
    locked, a failing statement), after rolling ``session`` back; a missing
    version table is not an error but a schema that is behind.
    """
    revisions = code_revisions(app)
    table = sa.table(revisions.version_table, sa.column("version_num", sa.String))
    try:
        stored = set(session.execute(sa.select(table.c.version_num)).scalars())
    except sa.exc.DBAPIError as exc:
        session.rollback()
        # Only a missing table makes a schema that is behind; a database that is
        # away must not cost a second try at reaching it on every probe.
        if errors.unavailable(exc) or sa.inspect(session.connection()).has_table(revisions.version_table):
            raise
        stored = set()
    revision = ",".join(sorted(stored)) or None
    if revisions.head in stored:
        return SchemaState("current", revision, revisions.head)
    if not stored or stored & revisions.known:
        return SchemaState("behind", revision, revisions.head)
    return SchemaState("ahead", revision, revisions.head)
