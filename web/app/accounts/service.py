"""Accounts: sign up, log in, change the password, delete; shared by the pages, the API and the CLI."""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from .models import User
from .passwords import hash_password, needs_rehash, verify_password
from .rules import AccountError, normalize_email, password_problem
from .sessions import end_other_sessions
from .throttle import Client, record_failure, retry_after

__all__ = [
    "AccountError",
    "PasswordGuessing",
    "authenticate",
    "change_password",
    "confirm_password",
    "create_user",
    "delete_user",
    "find_user_by_email",
]


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))


def create_user(email: str, password: str) -> User:
    """Create and commit a user; AccountError when the email or password is unusable."""
    email = normalize_email(email)
    problem = password_problem(password, email)
    if problem:
        raise AccountError(problem, field="password")
    if find_user_by_email(email) is not None:
        raise AccountError("An account with this email already exists; log in instead.")
    user = User(email=email, password_hash=hash_password(password))
    db.session.add(user)
    try:
        db.session.commit()
    except sa.exc.IntegrityError as exc:  # a concurrent sign-up won the race
        db.session.rollback()
        raise AccountError("An account with this email already exists; log in instead.") from exc
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user whose email and password these are, or None.

    Unknown emails cost the same hashing time as known ones. A hash made
    with older parameters is upgraded on a successful login.
    """
    user = find_user_by_email(email or "")
    if not verify_password(user.password_hash if user else None, password or "") or user is None:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.commit()
    return user


def change_password(user: User, current: str, new: str, client: Client) -> None:
    """Set a new password after checking the current one (throttled, as ``confirm_password``).

    Raises AccountError for a wrong current password or an unusable new one,
    and PasswordGuessing while ``client`` has too many recent failures.
    """
    confirm_password(user, current, client, message="Your current password is not correct.", field="current_password")
    problem = password_problem(new, user.email)
    if problem:
        raise AccountError(problem, field="new_password")
    user.password_hash = hash_password(new)
    db.session.commit()
    # Whoever else holds a session (perhaps the reason for the change) is out.
    end_other_sessions(user)


def delete_user(user: User, password: str, client: Client) -> None:
    """Delete the user with every note and token, after checking the password (throttled, as ``confirm_password``).

    Raises AccountError for a wrong password, and PasswordGuessing while
    ``client`` has too many recent failures; nothing is deleted then.
    """
    confirm_password(user, password, client, message="The password is not correct; your account was not deleted.")
    db.session.delete(user)
    db.session.commit()


def confirm_password(
    user: User,
    password: str,
    client: Client,
    *,
    message: str = "That is not your password.",
    field: str = "password",
) -> None:
    """Re-authentication before a sensitive action: the one place a logged-in user's password is checked.

    Raises AccountError(``message``, ``field``) for a wrong password, and
    PasswordGuessing while ``client`` has too many recent failures: wrong
    guesses here count against the same limits as logins, so a stolen
    session cannot be used to guess the password.
    """
    wait = retry_after(user.email, client)
    if wait is not None:
        raise PasswordGuessing(wait)
    if not verify_password(user.password_hash, password or ""):
        record_failure(user.email, client)
        raise AccountError(message, field=field)


class PasswordGuessing(Exception):
    """Too many wrong passwords from this client; ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many wrong passwords. Try again in {retry_after} seconds.")
        self.retry_after = retry_after
