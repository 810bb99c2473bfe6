"""``flask deploy migrate``: what a deploy runs once before the web servers start.

Not a subcommand of Flask-Migrate's ``flask db``: that group is found
without loading the app, so a command the app adds to it is not there when
the command line is read.
"""

from __future__ import annotations

import time
from collections.abc import Callable

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


deploy = AppGroup("deploy", help="What a deploy runs before the web servers start.")


@deploy.command("migrate")
@click.option("--attempts", type=click.IntRange(min=1), default=30, show_default=True, help="Tries before giving up.")
@click.option("--interval", type=click.FloatRange(min=0), default=2.0, show_default=True, help="Seconds between tries.")
def migrate_command(attempts: int, interval: float) -> None:
    """Refuse a placeholder database password, wait for the database, then apply every migration."""
    url = sa.engine.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.password is not None and is_placeholder(url.password):
        raise click.ClickException(
            "the database password is the placeholder from .env.example; set POSTGRES_PASSWORD to a random one in .env"
        )
    try:
        wait_for_database(url, attempts=attempts, interval=interval)
    except DatabaseUnreachable as exc:
        raise click.ClickException(str(exc)) from exc
    flask_migrate.upgrade()


def init_app(app: Flask) -> None:
    app.cli.add_command(deploy)
