"""Committed rows with sensible defaults, and the password every test account has."""

from __future__ import annotations

import itertools
from typing import Any

from app.accounts.passwords import hash_password
from app.accounts.tokens import create_token
from app.models import ApiToken, Note, User, db

PASSWORD = "correct horse battery"

_seq = itertools.count(1)


class Factory:
    """Builds committed rows with sensible defaults; override any field."""

    def user(self, email: str | None = None, password: str = PASSWORD) -> User:
        user = User(email=email or f"user{next(_seq)}@example.com", password_hash=hash_password(password))
        db.session.add(user)
        db.session.commit()
        return user

    def note(self, owner: User, **fields: Any) -> Note:
        fields.setdefault("title", f"Note {next(_seq)}")
        fields.setdefault("content", "Some *markdown* text.")
        note = Note(owner=owner, **fields)
        db.session.add(note)
        db.session.commit()
        return note

    def token(self, owner: User, scope: str = "write", **kwargs: Any) -> tuple[ApiToken, str]:
        return create_token(owner, kwargs.pop("name", "test token"), scope, kwargs.pop("expires_in_days", None))
