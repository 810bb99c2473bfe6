"""The account rules, in one place for the forms, the API schemas and the CLI:
what an email address, a password and an API token may be.
"""

from __future__ import annotations

import functools
import gzip
import os

from email_validator import EmailNotValidError, validate_email

from ..text_rules import NUL_MESSAGE, has_nul, is_blank

# RFC 5321's limit on a forward path.
MAX_EMAIL_LENGTH = 254
# Length only, no composition rules (ASVS 6.2).
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
PASSWORD_LENGTH_MESSAGE = f"Use {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters."
MAX_TOKEN_NAME_LENGTH = 100
TOKEN_NAME_REQUIRED = "Give the token a name."  # noqa: S105 - a message, not a secret
TOKEN_NAME_TOO_LONG = f"Keep the name to {MAX_TOKEN_NAME_LENGTH} characters."
# "admin" tokens manage accounts (/api/v1/admin) and read notes; only admins get one.
TOKEN_SCOPES = ("read", "write", "admin")
# How long a token may be set to live, in days.
MAX_TOKEN_DAYS = 3650

# A login session keeps its browser's User-Agent (to name the device on the
# account page) and its client address; longer User-Agents are cut.
MAX_USER_AGENT_LENGTH = 255
MAX_IP_LENGTH = 45  # the longest textual IPv6 address (with an embedded IPv4 one)

# How long an invite link may be set to live, in days.
DEFAULT_INVITE_DAYS = 7
MAX_INVITE_DAYS = 90
MAX_INVITE_NOTE_LENGTH = 100
# Single sign-on identities: an issuer is a URL; OpenID Connect caps a subject at 255 ASCII characters.
MAX_OIDC_ISSUER_LENGTH = 255
MAX_OIDC_SUBJECT_LENGTH = 255

REGISTRATION_CLOSED = "Registration is closed on this server. Ask its administrator for an account."
INVITE_NEEDED = "Registration on this server needs an invitation link. Ask its administrator for one."

# A two-factor code as typed: six digits, or a recovery code (xxxx-xxxx-xxxx-xxxx),
# with room for spaces.
MAX_CODE_LENGTH = 40


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


_COMMON_PASSWORDS = os.path.join(os.path.dirname(__file__), "data", "common-passwords.txt.gz")


@functools.cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(_COMMON_PASSWORDS, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip())


def is_common_password(password: str) -> bool:
    """True when ``password`` (case-insensitively) is on the shipped list of common passwords."""
    return password.lower() in _common_passwords()


def token_name_problem(name: str) -> str | None:
    """What is wrong with an API token's ``name``, or None."""
    if is_blank(name):
        return TOKEN_NAME_REQUIRED
    if len(name) > MAX_TOKEN_NAME_LENGTH:
        return TOKEN_NAME_TOO_LONG
    if has_nul(name):
        return NUL_MESSAGE
    return None


def invite_note_problem(note: str) -> str | None:
    """What is wrong with an invitation's note (who it is for), or None."""
    if len(note) > MAX_INVITE_NOTE_LENGTH:
        return f"Keep the note to {MAX_INVITE_NOTE_LENGTH} characters."
    if has_nul(note):
        return NUL_MESSAGE
    return None


def registration_refusal(mode: str, invite: str | None) -> str | None:
    """Why REGISTRATION ``mode`` lets nobody sign up without an invitation, or None when it may go ahead.

    The one rule for the register page, the sign-up service and single sign-on's
    new accounts. Whether ``invite`` is usable is for app/accounts/invites.py.
    """
    if mode == "closed":
        return REGISTRATION_CLOSED
    if mode == "invite" and not invite:
        return INVITE_NEEDED
    return None
