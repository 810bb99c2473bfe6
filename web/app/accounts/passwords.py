"""Password hashing with argon2id, parameters taken from the app config."""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# The password hash of an account made by single sign-on: no password matches it.
NO_PASSWORD = "!"  # noqa: S105 - not a password: a hash that no password matches

_hashers: dict[tuple[int, int, int], PasswordHasher] = {}
_dummy_hashes: dict[tuple[int, int, int], str] = {}


def _params() -> tuple[int, int, int]:
    cfg = current_app.config
    return (
        cfg["PASSWORD_HASH_TIME_COST"],
        cfg["PASSWORD_HASH_MEMORY_KIB"],
        cfg["PASSWORD_HASH_PARALLELISM"],
    )


def _hasher() -> PasswordHasher:
    params = _params()
    hasher = _hashers.get(params)
    if hasher is None:
        t, m, p = params
        hasher = _hashers[params] = PasswordHasher(time_cost=t, memory_cost=m, parallelism=p)
    return hasher


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password`` with the configured cost."""
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``.

    With ``stored_hash`` None (no such user) a dummy hash is checked instead,
    so that an unknown email costs the same time as a known one and the
    answer cannot be used to find out which emails have accounts.
    """
    hasher = _hasher()
    if stored_hash is None:
        params = _params()
        dummy = _dummy_hashes.get(params)
        if dummy is None:
            dummy = _dummy_hashes[params] = hasher.hash("dummy password for timing")
        with contextlib.suppress(VerificationError):
            hasher.verify(dummy, password)
        return False
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when ``stored_hash`` was made with other parameters than today's."""
    try:
        return _hasher().check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def has_password(password_hash: str | None) -> bool:
    """Whether a password can open the account with this hash (one made by single sign-on has none)."""
    return bool(password_hash) and password_hash != NO_PASSWORD
