"""``flask users create EMAIL``: an account without the web form."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from .service import AccountError, create_user

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


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
