"""Account rules shared by the web forms, the API and the CLI."""

from __future__ import annotations

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from .extensions import db
from .models import User
from .passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message says why."""


def normalize_email(email: str) -> str:
    """Return ``email`` trimmed and lower-cased, or raise AccountError."""
    email = (email or "").strip()
    try:
        checked = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(f"Enter a valid email address ({exc}).") from exc
    return checked.normalized.lower()


def password_problem(password: str) -> str | None:
    """Why ``password`` is not acceptable, or None when it is."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    return None


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))


def create_user(email: str, password: str) -> User:
    """Create and commit a user; AccountError when the email or password is unusable."""
    email = normalize_email(email)
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
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
        raise AccountError("Your current password is not correct.")
    problem = password_problem(new)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(new)
    db.session.commit()


def delete_user(user: User, password: str) -> None:
    """Delete the user with every note and token, after checking the password."""
    if not verify_password(user.password_hash, password):
        raise AccountError("The password is not correct; your account was not deleted.")
    db.session.delete(user)
    db.session.commit()
