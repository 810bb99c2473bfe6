"""Opaque keyset cursors: a page starts strictly after the last row seen.

Keyset pagination costs the same on page 1 and page 1,000, unlike OFFSET,
and never skips or repeats a note when others are added meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

# Whole numbers a cursor may carry: what both databases can bind (signed 64 bits).
_MIN_INT, _MAX_INT = -(2**63), 2**63 - 1


class CursorError(ValueError):
    """The cursor was not made by ``encode_cursor``."""


def encode_cursor(values: tuple[Any, ...]) -> str:
    """Turn the sort key of the last row on a page into an opaque string."""
    payload = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: tuple[type, ...]) -> tuple[Any, ...]:
    """Read a cursor back into a sort key of the given ``kinds``.

    Raises CursorError for anything that is not a cursor this app made.
    """
    if len(cursor) > 200:
        raise CursorError("cursor is too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise CursorError("cursor is not valid") from exc
    if not isinstance(payload, list) or len(payload) != len(kinds):
        raise CursorError("cursor is not valid")
    values: list[Any] = []
    for value, kind in zip(payload, kinds, strict=True):
        if kind is datetime:
            if not isinstance(value, str):
                raise CursorError("cursor is not valid")
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError as exc:
                raise CursorError("cursor is not valid") from exc
            if parsed.tzinfo is None:
                raise CursorError("cursor is not valid")
            try:
                # In UTC, as the database compares it: an instant at the ends
                # of datetime's range (year 1 at +14:00) has no UTC form.
                values.append(parsed.astimezone(UTC))
            except OverflowError as exc:
                raise CursorError("cursor is not valid") from exc
        elif kind is bool:
            if not isinstance(value, bool):
                raise CursorError("cursor is not valid")
            values.append(value)
        elif kind is int:
            if not isinstance(value, int) or isinstance(value, bool) or not _MIN_INT <= value <= _MAX_INT:
                raise CursorError("cursor is not valid")
            values.append(value)
        else:  # pragma: no cover - a programming error, not user input
            raise TypeError(f"unsupported cursor kind {kind}")
    return tuple(values)
