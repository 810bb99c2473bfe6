"""``flask deploy migrate``: what a deploy runs once before the web servers start.

Not a subcommand of Flask-Migrate's ``flask db``: that group is found
without loading the app, so a command the app adds to it is not there when
the command line is read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import click
import flask_migrate
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from ..config import is_placeholder


class DatabaseUnreachable(RuntimeError):
    """The database did not answer within the attempts allowed."""


def wait_for_database(
    url: str | sa.URL, *, attempts: int, interval: float, echo: Callable[[str], object] = click.echo
) -> None:
    """Return once ``url`` answers ``SELECT 1``; raise DatabaseUnreachable after ``attempts`` failures.

    Each failure is reported through ``echo`` and followed by ``interval``
    seconds of sleep: the database may still be starting, or be an external
    one that is restarting.
    """
    engine = sa.create_engine(url, pool_pre_ping=True)
    try:
        for attempt in range(1, attempts + 1):
            try:
                with engine.connect() as connection:
                    connection.execute(sa.text("SELECT 1"))
                return
            except sa.exc.OperationalError as exc:
                echo(f"migrate: database not ready ({attempt}/{attempts}): {exc.__class__.__name__}")
                if attempt < attempts:
                    time.sleep(interval)
    finally:
        engine.dispose()
    raise DatabaseUnreachable(
        f"database unreachable after {attempts} attempts; check DATABASE_URL and that the database is running"
    )


# The key of the PostgreSQL advisory lock every `flask deploy migrate` holds
# while it migrates: b"notesmig" read as a big-endian 64-bit number, so that
# it is easy to tell in pg_locks and unlikely to meet another program's key.
MIGRATION_LOCK_KEY = 0x6E6F7465736D6967


class MigrationLocked(RuntimeError):
    """Another migration held the lock for all the attempts allowed."""


@contextmanager
def migration_lock(
    url: str | sa.URL, *, attempts: int, interval: float, echo: Callable[[str], object] = click.echo
) -> Iterator[None]:
    """Hold the migration lock for the block, on PostgreSQL; on other databases just run it.

    Every replica of the app may run `flask deploy migrate` as it starts, all
    at once: the lock lets one of them migrate while the others wait, then
    find nothing left to do. It is taken on a connection of its own, held
    for the session (not a transaction, which Alembic commits), and given
    back when the block ends, whether it raised or not. Raises MigrationLocked
    when the lock is still held elsewhere after ``attempts`` tries
    ``interval`` seconds apart, and SQLAlchemy's errors when the database fails.
    """
    url = sa.engine.make_url(url)
    if url.get_backend_name() != "postgresql":
        # SQLite is one file that a single host migrates, and its writers
        # already queue on the file's lock: replicas never share it.
        yield
        return
    # AUTOCOMMIT: waiting idle inside a transaction would hold a snapshot open
    # for the whole migration; NullPool: the lock dies with the connection.
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            try_lock = sa.text("SELECT pg_try_advisory_lock(:key)").bindparams(key=MIGRATION_LOCK_KEY)
            for attempt in range(1, attempts + 1):
                if connection.scalar(try_lock):
                    break
                echo(f"migrate: another migration holds the lock ({attempt}/{attempts})")
                if attempt < attempts:
                    time.sleep(interval)
            else:
                raise MigrationLocked(
                    f"another `flask deploy migrate` held the migration lock through {attempts} attempts; "
                    "let it finish and run this again, or raise --attempts or --interval for a long migration"
                )
            try:
                yield
            finally:
                # A connection that broke took the lock with its session; the
                # error that matters then is the block's, not this one's.
                with suppress(sa.exc.DBAPIError):
                    connection.execute(sa.text("SELECT pg_advisory_unlock(:key)").bindparams(key=MIGRATION_LOCK_KEY))
    finally:
        engine.dispose()


deploy = AppGroup("deploy", help="What a deploy runs before the web servers start.")


@deploy.command("migrate")
@click.option("--attempts", type=click.IntRange(min=1), default=30, show_default=True, help="Tries before giving up.")
@click.option("--interval", type=click.FloatRange(min=0), default=2.0, show_default=True, help="Seconds between tries.")
def migrate_command(attempts: int, interval: float) -> None:
    """Refuse a placeholder database password, wait for the database, then apply every migration.

    On PostgreSQL the migration runs under an advisory lock, so any number of
    these started at once migrate once and all succeed.
    """
    url = _database_url()
    try:
        wait_for_database(url, attempts=attempts, interval=interval)
    except DatabaseUnreachable as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        with migration_lock(url, attempts=attempts, interval=interval):
            flask_migrate.upgrade()
    except MigrationLocked as exc:
        raise click.ClickException(str(exc)) from exc


@deploy.command("check")
def check_command() -> None:
    """Refuse settings the app would refuse, without touching the database.

    The app's configuration has already judged SECRET_KEY and the rest by the
    time this runs (it fails to load otherwise); this adds the database
    password. `make swarm-deploy` runs it before it makes Docker secrets.
    """
    _database_url()
    click.echo("deploy check: the settings are usable")


def _database_url() -> sa.URL:
    """The app's database URL; ClickException when its password is .env.example's placeholder."""
    url = sa.engine.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.password is not None and is_placeholder(url.password):
        raise click.ClickException(
            "the database password is the placeholder from .env.example; set POSTGRES_PASSWORD to a random one in .env"
        )
    return url


def init_app(app: Flask) -> None:
    app.cli.add_command(deploy)
