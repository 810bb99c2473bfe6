"""A JSON document read from a stream a value at a time, so that a large array need not be in memory whole.

``JSONStream`` holds only the text not yet consumed (and, while a value is
being decoded, that value's text): each value is decoded by
``jsonbody.raw_decode``, so it is the same Python value ``json.loads`` would
give, refused for the same reasons. The structure around the values (``{``,
``"key":``, ``,``, ``]``) is walked by the caller with ``peek`` and ``expect``.
A syntax error is a ``json.JSONDecodeError`` whose ``lineno`` counts the lines
of the whole document, as ``json.loads`` would report it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ..http import jsonbody

# Text read at a time; a value longer than this is read in growing pieces.
CHUNK = 256 * 1024
_NOT_SPACE = re.compile(r"[^ \t\n\r]")


class JSONStream:
    """The JSON text that ``read(n)`` gives (about ``n`` characters each time, "" only at its end)."""

    def __init__(self, read: Callable[[int], str]) -> None:
        self._read = read
        self._buf = ""
        self._pos = 0
        self._lines = 0  # line breaks in the text already let go
        self._eof = False

    def _more(self, wanted: int = CHUNK) -> bool:
        """Read more text (at least ``wanted``, when there is as much); False at the end."""
        if self._eof:
            return False
        text = self._read(max(wanted, CHUNK))
        if not text:
            self._eof = True
            return False
        # What was consumed goes now, and only now: the caller's positions hold until then.
        if self._pos:
            self._lines += self._buf.count("\n", 0, self._pos)
            self._buf = self._buf[self._pos :]
            self._pos = 0
        self._buf += text
        return True

    def peek(self) -> str:
        """The next character that is not white space, not consumed; "" at the end of the text."""
        while True:
            found = _NOT_SPACE.search(self._buf, self._pos)
            if found:
                self._pos = found.start()
                return self._buf[self._pos]
            self._pos = len(self._buf)
            if not self._more():
                return ""

    def expect(self, chars: str, wanted: str) -> str:
        """Consume the next character that is not white space, one of ``chars``;
        JSONDecodeError ("Expecting ``wanted``") when it is not."""
        char = self.peek()
        if not char or char not in chars:
            raise self.error(f"Expecting {wanted}")
        self._pos += 1
        return char

    def value(self) -> Any:
        """Consume the next value and return it; JSONDecodeError when there is none, and
        UnusableJSON (jsonbody) for one the app cannot use."""
        self.peek()
        while True:
            try:
                value, end = jsonbody.raw_decode(self._buf, self._pos)
            except jsonbody.UnusableJSON:
                raise
            except json.JSONDecodeError as exc:
                # Perhaps only cut short by the end of what was read: read as much
                # again (so that a long value is decoded a few times, not once a chunk).
                if self._more(len(self._buf) - self._pos):
                    continue
                exc.lineno += self._lines
                raise
            # A number may go on past what was read: "1" of "1.5", "1" of "1e+5" (two
            # characters past what decoded), "12" of "123".
            if len(self._buf) - end < 3 and self._more(len(self._buf) - self._pos):
                continue
            self._pos = end
            return value

    def end(self) -> None:
        """JSONDecodeError ("Extra data") unless nothing but white space is left."""
        if self.peek():
            raise self.error("Extra data")

    def error(self, message: str) -> json.JSONDecodeError:
        """A JSONDecodeError at the current position, its line counted in the whole text."""
        exc = json.JSONDecodeError(message, self._buf, self._pos)
        exc.lineno += self._lines
        return exc
