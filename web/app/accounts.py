"""Account rules shared by the web forms, the API and the CLI."""

from __future__ import annotations

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from .extensions import db
from .models import User
from .passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    is_common_password,
    needs_rehash,
    verify_password,
)
from .sessions import end_other_sessions
from .throttle import record_failure, retry_after


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message says
    why, and ``field`` names the form field it is about."""

    def __init__(self, message: str, field: str = "email") -> None:
        super().__init__(message)
        self.field = field


def normalize_email(email: str) -> str:
    """Return ``email`` trimmed and lower-cased, or raise AccountError."""
    email = (email or "").strip()
    try:
        checked = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(f"Enter a valid email address ({exc}).") from exc
    return checked.normalized.lower()


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why ``password`` is not acceptable, or None when it is.

    Length only, no composition rules (ASVS 6.2), and none of the most
    common passwords, nor the account's own email address.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    if is_common_password(password):
        return "This password is one of the most common ones, which attackers try first. Choose another."
    if email and password.strip().lower() == email.strip().lower():
        return "Do not use your email address as your password."
    return None


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


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one; AccountError otherwise."""
    if not verify_password(user.password_hash, current):
        raise AccountError("Your current password is not correct.", field="current_password")
    problem = password_problem(new, user.email)
    if problem:
        raise AccountError(problem, field="new_password")
    user.password_hash = hash_password(new)
    db.session.commit()
    # Whoever else holds a session (perhaps the reason for the change) is out.
    end_other_sessions(user)


def delete_user(user: User, password: str) -> None:
    """Delete the user with every note and token, after checking the password."""
    if not verify_password(user.password_hash, password):
        raise AccountError("The password is not correct; your account was not deleted.", field="password")
    db.session.delete(user)
    db.session.commit()


def confirm_password(user: User, password: str) -> None:
    """Re-authentication before a sensitive action (such as minting an API token).

    Raises AccountError for a wrong password, and PasswordGuessing while this
    client has too many recent failures: wrong guesses here count against the
    same limits as logins, so a stolen session cannot be used to guess.
    """
    wait = retry_after(user.email)
    if wait is not None:
        raise PasswordGuessing(wait)
    if not verify_password(user.password_hash, password or ""):
        record_failure(user.email)
        raise AccountError("That is not your password.", field="password")


class PasswordGuessing(Exception):
    """Too many wrong passwords from this client; ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many wrong passwords. Try again in {retry_after} seconds.")
        self.retry_after = retry_after
