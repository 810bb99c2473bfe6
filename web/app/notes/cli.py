"""``flask notes purge-trash``: what a daily schedule runs."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .attachments import sweep_orphans
from .history import prune_revisions
from .service import purge_expired_trash

notes = AppGroup("notes", help="Look after notes.")


@notes.command("purge-trash")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Keep trashed notes this many days (default: TRASH_RETENTION_DAYS, 30).",
)
@click.option(
    "--revision-days",
    type=click.IntRange(min=1),
    default=None,
    help="Keep revisions this many days after their last save (default: REVISIONS_KEEP_DAYS; unset keeps all).",
)
def purge_trash_command(days: int | None, revision_days: int | None) -> None:
    """Delete forever the notes that have been in the trash too long, with
    their history and files, revisions older than REVISIONS_KEEP_DAYS, and stored files no note
    names any more (left by a crash between a delete and the removal of its bytes). Run it daily."""
    keep = current_app.config["TRASH_RETENTION_DAYS"] if days is None else days
    count = purge_expired_trash(timedelta(days=keep))
    click.echo(f"Deleted {count} note{'s' if count != 1 else ''} trashed more than {keep} days ago.")
    keep_revisions = current_app.config.get("REVISIONS_KEEP_DAYS") if revision_days is None else revision_days
    if keep_revisions:
        pruned = prune_revisions(timedelta(days=keep_revisions))
        click.echo(f"Deleted {pruned} revision{'s' if pruned != 1 else ''} older than {keep_revisions} days.")
    swept = sweep_orphans()
    click.echo(f"Removed {swept} stored file{'s' if swept != 1 else ''} that no note names.")


def init_app(app: Flask) -> None:
    app.cli.add_command(notes)
