"""Committed rows with sensible defaults, and the password every test account has."""

from __future__ import annotations

import io
import itertools
import json
import zipfile
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


def exported_note(**fields: Any) -> dict[str, Any]:
    """One note as an export's notes.json holds it; override any field."""
    return {
        "title": "imported",
        "content": "",
        "tags": [],
        "pinned": False,
        "archived": False,
        "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
        "deleted_at": None,
        **fields,
    }


def export_archive(notes: list[dict[str, Any]], *, padding: int = 0) -> bytes:
    """A zip as Export makes it, holding ``notes``; ``padding`` bytes more in a stored (uncompressed) file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.json", json.dumps({"format": "notes-export", "version": 1, "notes": notes}))
        if padding:
            archive.writestr("notes/padding.md", "p" * padding, compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


def keep_takeout_zip() -> bytes:
    """A small Google Takeout zip with Keep notes: one kept (a pinned checklist labelled "home"),
    one in Keep's trash, and Takeout's HTML copy of the first."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "Takeout/Keep/Groceries.json",
            '{"title": "Groceries", "listContent": [{"text": "milk", "isChecked": false}],'
            ' "labels": [{"name": "home"}], "isPinned": true, "isArchived": false, "isTrashed": false,'
            ' "createdTimestampUsec": 1700000000000000, "userEditedTimestampUsec": 1700000000000000}',
        )
        archive.writestr("Takeout/Keep/Old.json", '{"title": "Old", "textContent": "x", "isTrashed": true}')
        archive.writestr("Takeout/Keep/Groceries.html", "<html></html>")
    return buffer.getvalue()
