"""Accounts: sign up, log in, change the password, delete; shared by the pages, the API and the CLI."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa

from ..domain import NotAllowed
from ..extensions import db
from . import audit, invites
from .admin import delete_account
from .models import User
from .passwords import has_password, hash_password, needs_rehash, verify_password
from .rules import AccountError, normalize_email, password_problem, registration_refusal
from .sessions import delete_other_sessions
from .throttle import Client, clear_failures, record_failure, retry_after
from .tokens import revoke_all_tokens

CHANGED_MEANWHILE = "Your password was changed elsewhere just now; nothing was changed here. Enter the new one."
CONFIRM_WITH_SSO = (
    "This account has no password: confirm it is you with single sign-on (“Confirm with SSO” on the "
    "Account page), then try again within a few minutes."
)
DISABLED = "This account has been disabled by an administrator of this server. Ask them to enable it."

__all__ = [
    "AccountError",
    "PasswordChanged",
    "PasswordChangedMeanwhile",
    "PasswordGuessing",
    "SecondFactorNeeded",
    "authenticate",
    "change_password",
    "confirm_password",
    "create_user",
    "delete_user",
    "find_user_by_email",
    "log_in",
    "register",
    "set_password",
]


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))


def create_user(email: str, password: str, *, admin: bool = False, actor: User | None = None) -> User:
    """Create and commit an account (``flask users create``, the admin's way): whatever REGISTRATION says.

    Raises AccountError when the email or password is unusable or taken.
    """
    user = _new_user(email, password, admin=admin)
    audit.record("account_created", target=user, actor=actor, detail="administrator" if admin else "")
    _commit_new_user()
    return user


def register(email: str, password: str, *, mode: str, invite: str | None = None, ip: str | None = None) -> User:
    """Sign up under the server's REGISTRATION ``mode`` (open, invite or closed); the new account, committed.

    Raises NotAllowed when registration is closed, or by invitation and
    ``invite`` is missing; RuleConflict when the invitation is unknown,
    used, expired or withdrawn; AccountError when the email or password is
    unusable or taken. Nothing is written then, and the invitation stays unused.
    """
    refusal = registration_refusal(mode, invite)
    if refusal is not None:
        raise NotAllowed(refusal)
    user = _new_user(email, password)
    try:
        if mode == "invite":
            invites.claim(invite, user)
        audit.record("register", target=user, ip=ip, detail="with an invitation" if mode == "invite" else "")
    except Exception:
        db.session.rollback()
        raise
    _commit_new_user()
    return user


def _new_user(email: str, password: str, *, admin: bool = False) -> User:
    """Add (and flush) an account; AccountError when the email or password is unusable or taken."""
    email = normalize_email(email)
    problem = password_problem(password, email)
    if problem:
        raise AccountError(problem, field="password")
    if find_user_by_email(email) is not None:
        raise AccountError("An account with this email already exists; log in instead.")
    user = User(email=email, password_hash=hash_password(password), is_admin=admin)
    db.session.add(user)
    try:
        db.session.flush()
    except sa.exc.IntegrityError as exc:  # a concurrent sign-up won the race
        db.session.rollback()
        raise AccountError("An account with this email already exists; log in instead.") from exc
    return user


def _commit_new_user() -> None:
    try:
        db.session.commit()
    except sa.exc.IntegrityError as exc:  # a concurrent sign-up won the race
        db.session.rollback()
        raise AccountError("An account with this email already exists; log in instead.") from exc


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


ADMINS_ONLY = "On this server password login is for administrators; use single sign-on."


def log_in(email: str, password: str, client: Client, *, admins_only: bool = False) -> User:
    """The account these credentials open, checked against the login throttle; every outcome is audited.

    Raises PasswordGuessing while ``client`` has too many recent failures
    (nothing is checked then), AccountError with one message for an unknown
    email and a wrong password alike, NotAllowed for a disabled account
    (said only to whoever knows its password) or for an account that is
    not an administrator's when ``admins_only`` (PASSWORD_LOGIN=off), and
    SecondFactorNeeded when the password is right but the account has
    two-factor login on: nobody is logged in then, and the client's failures
    are not forgiven until the code is right too (app/accounts/twofactor.py).
    """
    wait = retry_after(email, client)
    if wait is not None:
        raise PasswordGuessing(wait)
    user = authenticate(email, password)
    if user is None:
        known = find_user_by_email(email)
        audit.record("login_failed", target=known, target_email=None if known else email, ip=client.ip)
        record_failure(email, client)  # commits the event too
        raise AccountError("Invalid email or password.")
    if user.is_disabled:
        clear_failures(email, client)
        audit.record("login_refused", target=user, ip=client.ip)
        db.session.commit()
        raise NotAllowed(DISABLED)
    if admins_only and not user.is_admin:
        clear_failures(email, client)
        audit.record("password_login_refused", target=user, ip=client.ip)
        db.session.commit()
        raise NotAllowed(ADMINS_ONLY)
    if user.two_factor_enabled:
        # Forgiving failures here would let a guesser who has the password
        # try codes without limit, one password between every few codes.
        raise SecondFactorNeeded(user)
    clear_failures(email, client)
    audit.record("login", target=user, ip=client.ip)
    db.session.commit()
    return user


class PasswordChanged(NamedTuple):
    """What a new password ended besides the old one."""

    sessions_ended: int
    tokens_revoked: int


def change_password(
    user: User, current: str, new: str, client: Client, *, revoke_tokens: bool, sso_confirmed: bool = False
) -> PasswordChanged:
    """Set a new password after checking the current one (throttled, as ``confirm_password``); see ``set_password``.

    Raises AccountError for a wrong current password, an unusable new one or
    a password changed by another request meanwhile,
    and PasswordGuessing while ``client`` has too many recent failures;
    nothing changes then.
    """
    confirm_password(
        user,
        current,
        client,
        message="Your current password is not correct.",
        field="current_password",
        sso_confirmed=sso_confirmed,
    )
    try:
        return set_password(user, new, revoke_tokens=revoke_tokens, keep_sid=user.login_sid, ip=client.ip)
    except PasswordChangedMeanwhile:
        raise AccountError(CHANGED_MEANWHILE, field="current_password") from None


class PasswordChangedMeanwhile(Exception):
    """The password (or the account's standing) changed between reading the account and writing the new one."""


def set_password(
    user: User,
    new: str,
    *,
    revoke_tokens: bool,
    keep_sid: str | None = None,
    ip: str | None = None,
    action: str = "password_changed",
    field: str = "new_password",
) -> PasswordChanged:
    """Give ``user`` the password ``new`` and end their other login sessions, in one committed, audited transaction.

    The one place a password is set once the account exists (a change on the
    account page or the API, a reset link). Whoever else holds a session
    (perhaps the reason for the change) is out: every session but ``keep_sid``
    (the one making the change), or every one when it is None (a reset). With
    ``revoke_tokens`` every API token of the account is revoked too.
    ``action`` is the audit log's name for it. Whatever the caller wrote in
    the same transaction commits with it, or is rolled back with it.

    Raises AccountError (on ``field``) for a password the policy refuses, and
    PasswordChangedMeanwhile when the stored password is no longer the one
    read with ``user``, or the account was disabled meanwhile (of two changes
    racing, only the first wins). Nothing is changed then.
    """
    problem = password_problem(new, user.email)
    if problem:
        db.session.rollback()
        raise AccountError(problem, field=field)
    # Conditional: of two changes (or resets) racing, only the first finds the
    # password it read; a disabled account takes no new password.
    changed = db.session.execute(
        sa.update(User)
        .where(User.id == user.id, User.password_hash == user.password_hash, User.disabled_at.is_(None))
        .values(password_hash=hash_password(new))
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise PasswordChangedMeanwhile
    sessions = delete_other_sessions(user, keep_sid)
    tokens = revoke_all_tokens(user) if revoke_tokens else 0
    ended = _count(sessions, "other session" if keep_sid else "session") + " ended"
    audit.record(action, target=user, actor=user, ip=ip, detail=ended)
    if tokens:
        audit.record(
            "tokens_revoked", target=user, actor=user, ip=ip, detail=_count(tokens, "token") + " with the new password"
        )
    db.session.commit()
    db.session.expire(user)
    return PasswordChanged(sessions, tokens)


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


def delete_user(user: User, password: str, client: Client, *, sso_confirmed: bool = False) -> None:
    """Delete the user with every note and token, after checking the password (throttled, as ``confirm_password``).

    Raises AccountError for a wrong password, PasswordGuessing while
    ``client`` has too many recent failures, and RuleConflict for the last
    enabled administrator; nothing is deleted then.
    """
    confirm_password(
        user,
        password,
        client,
        message="The password is not correct; your account was not deleted.",
        sso_confirmed=sso_confirmed,
    )
    # As an administrator deletes one: the last administrator cannot leave.
    delete_account(user, actor=user, ip=client.ip)


def confirm_password(
    user: User,
    password: str,
    client: Client,
    *,
    message: str = "That is not your password.",
    field: str = "password",
    sso_confirmed: bool = False,
) -> None:
    """Re-authentication before a sensitive action: the one place a logged-in user's password is checked.

    An account made by single sign-on has no password: for it, and only for
    it, ``sso_confirmed`` (the provider logged this user in again moments
    ago, app/accounts/sso_views.py) stands in.

    Raises AccountError(``message``, ``field``) for a wrong password, or
    CONFIRM_WITH_SSO for an account without one that has not confirmed (not
    counted as a failure: there is nothing to guess), and PasswordGuessing
    while ``client`` has too many recent failures: wrong guesses here count
    against the same limits as logins, so a stolen session cannot be used to
    guess the password.
    """
    if not has_password(user.password_hash):
        if sso_confirmed:
            return
        raise AccountError(CONFIRM_WITH_SSO, field=field)
    wait = retry_after(user.email, client)
    if wait is not None:
        raise PasswordGuessing(wait)
    if not verify_password(user.password_hash, password or ""):
        record_failure(user.email, client)
        raise AccountError(message, field=field)


class SecondFactorNeeded(Exception):
    """The password was right and the account needs a code too: nobody is logged in yet."""

    def __init__(self, user: User) -> None:
        super().__init__("a second factor is needed")
        self.user = user


class PasswordGuessing(Exception):
    """Too many wrong passwords from this client; ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many wrong passwords. Try again in {retry_after} seconds.")
        self.retry_after = retry_after
