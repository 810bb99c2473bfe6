"""Admin commands: ``flask users create EMAIL``."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .accounts import AccountError, create_user
from .notes.service import purge_expired_trash

users = AppGroup("users", help="Manage user accounts.")


@users.command("create")
@click.argument("email")
@click.password_option(help="The new user's password (prompted when omitted).")
def create_user_command(email: str, password: str) -> None:
    """Create an account without the web form."""
    try:
        user = create_user(email, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created user {user.id} <{user.email}>")


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
    app.cli.add_command(users)
    app.cli.add_command(notes)
