"""``flask users ...``: manage accounts from the server's shell, without the web.

How the first administrator comes to be (``flask users create --admin``), and
how an operator acts when nobody can log in. Actions are audited as done
"from the command line" (no acting account).
"""

from __future__ import annotations

from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ..domain import NotAllowed, NotFoundError, RuleConflict
from . import admin, twofactor
from .invites import create_invite
from .models import User
from .resets import reset_link_for_admin
from .rules import DEFAULT_INVITE_DAYS, AccountError
from .service import create_user, find_user_by_email

users = AppGroup("users", help="Manage user accounts.")


def _account(email: str) -> User:
    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account with the email {email!r}; `flask users list` shows them.")
    return user


def _run(action: Callable[..., object], *args: object, **kwargs: object) -> None:
    """Call an admin service, turning its refusals into a message and exit code 1."""
    try:
        action(*args, **kwargs)
    except (RuleConflict, NotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc


@users.command("create")
@click.argument("email")
@click.password_option(help="The new user's password (prompted when omitted).")
@click.option("--admin", "make_admin", is_flag=True, help="Make the account an administrator.")
def create_user_command(email: str, password: str, make_admin: bool) -> None:
    """Create an account without the web form, whatever REGISTRATION says."""
    try:
        user = create_user(email, password, admin=make_admin)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    role = "administrator" if make_admin else "user"
    click.echo(f"Created {role} {user.id} <{user.email}>")


@users.command("list")
def list_command() -> None:
    """List every account: id, email, role, state, two-factor login, notes, created and last seen.

    The admin page's columns in its order, from the same rows (admin.list_accounts).
    """
    for row in admin.list_accounts():
        user = row.user
        role = "admin" if user.is_admin else "user"
        state = "disabled" if user.is_disabled else "active"
        two_factor = "2FA on" if row.two_factor else "2FA off"
        seen = row.last_seen.strftime("%Y-%m-%d %H:%M") if row.last_seen else "never"
        click.echo(
            f"{user.id}\t{user.email}\t{role}\t{state}\t{two_factor}\t{row.notes} notes\t"
            f"created {user.created_at:%Y-%m-%d}\tlast seen {seen}"
        )


@users.command("reset-2fa")
@click.argument("email")
def reset_two_factor_command(email: str) -> None:
    """Turn two-factor login off for someone who lost their authenticator app and every recovery code.

    Check who is asking by other means first: this removes the second factor.
    """
    if twofactor.reset(_account(email), actor=None):
        click.echo(f"Two-factor login is off for {email}; they can log in with the password and set it up again.")
    else:
        click.echo(f"{email} does not have two-factor login on; nothing changed.")


@users.command("promote")
@click.argument("email")
def promote_command(email: str) -> None:
    """Make an account an administrator."""
    _run(admin.set_admin, _account(email), True, actor=None)
    click.echo(f"{email} is now an administrator.")


@users.command("demote")
@click.argument("email")
def demote_command(email: str) -> None:
    """Take the administrator's role away (never from the last one)."""
    _run(admin.set_admin, _account(email), False, actor=None)
    click.echo(f"{email} is no longer an administrator.")


@users.command("disable")
@click.argument("email")
def disable_command(email: str) -> None:
    """Disable an account: no logins, and its sessions and tokens end now."""
    _run(admin.disable, _account(email), actor=None)
    click.echo(f"{email} is disabled; its sessions and tokens have ended.")


@users.command("enable")
@click.argument("email")
def enable_command(email: str) -> None:
    """Let a disabled account log in again."""
    _run(admin.enable, _account(email), actor=None)
    click.echo(f"{email} can log in again.")


@users.command("delete")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_command(email: str, yes: bool) -> None:
    """Delete an account with all its notes (never the last administrator)."""
    user = _account(email)
    if not yes:
        click.confirm(f"Delete {email} and all of its notes? This cannot be undone", abort=True)
    _run(admin.delete_account, user, actor=None)
    click.echo(f"{email} and its notes are deleted.")


@users.command("invite")
@click.option("--days", type=int, default=DEFAULT_INVITE_DAYS, show_default=True, help="Days until the link expires.")
@click.option("--note", default="", help="Who it is for (shown in the admin list).")
@click.option("--base-url", default="", help="The server's address, e.g. https://notes.example.org, for a full link.")
def invite_command(days: int, note: str, base_url: str) -> None:
    """Print a single-use link to register while REGISTRATION=invite."""
    try:
        _, secret = create_invite(None, days=days, note=note)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    path = f"{current_app.config['URL_PREFIX']}/auth/register?invite={secret}"
    click.echo(f"{base_url.rstrip('/')}{path}" if base_url else path)
    click.echo(f"Single use, expires in {days} days.", err=True)


@users.command("reset-link")
@click.argument("email")
@click.option("--base-url", default="", help="The server's address, e.g. https://notes.example.org, for a full link.")
def reset_link_command(email: str, base_url: str) -> None:
    """Print a password reset link for an account, to hand over yourself (when the server sends no mail).

    The same kind of link as the mailed one: it works once, expires, and
    dies when the password changes.
    """
    try:
        user, secret = reset_link_for_admin(email)
    except (NotFoundError, NotAllowed) as exc:
        raise click.ClickException(str(exc)) from exc
    path = f"{current_app.config['URL_PREFIX']}/auth/reset/{secret}"
    click.echo(f"{base_url.rstrip('/')}{path}" if base_url else path)
    minutes = int(current_app.config["PASSWORD_RESET_TTL"].total_seconds() // 60)
    click.echo(f"For {user.email}: single use, expires in {minutes} minutes.", err=True)


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
