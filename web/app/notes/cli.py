"""``flask notes purge-trash``: what a daily schedule runs."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .service import purge_expired_trash

notes = AppGroup("notes", help="Look after notes.")


@notes.command("purge-trash")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Keep trashed notes this many days (default: TRASH_RETENTION_DAYS, 30).",
)
def purge_trash_command(days: int | None) -> None:
    """Delete forever the notes that have been in the trash too long. Run it daily."""
    keep = current_app.config["TRASH_RETENTION_DAYS"] if days is None else days
    count = purge_expired_trash(timedelta(days=keep))
    click.echo(f"Deleted {count} note{'s' if count != 1 else ''} trashed more than {keep} days ago.")


def init_app(app: Flask) -> None:
    app.cli.add_command(notes)
