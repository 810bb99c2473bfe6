"""JSON from clients, read so that every way it can be unusable is a clear error, never a crash.

``json.loads`` accepts a few things the app cannot use and fails on others
with errors that are not ``JSONDecodeError``: nesting deep enough to exhaust
the stack (RecursionError), integers past Python's conversion limit
(ValueError), and lone UTF-16 surrogates (``"\\ud800"``), which parse but
cannot be stored as UTF-8. ``loads`` turns each into ``UnusableJSON``.
"""

from __future__ import annotations

import json
import re
from typing import Any

# A \u escape of a UTF-16 surrogate: only then can a parsed string hold a lone one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class UnusableJSON(json.JSONDecodeError):
    """The text is not JSON the app can use; the message says why, for the client."""

    def __init__(self, reason: str, doc: str = "") -> None:
        super().__init__(reason, doc, 0)
        self.reason = reason


def loads(text: str) -> Any:
    """Parse ``text``; raise UnusableJSON for anything the app cannot use (see above)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError as exc:
        raise UnusableJSON("The JSON is nested too deeply.", text) from exc
    except ValueError as exc:  # a number with more digits than Python converts
        raise UnusableJSON("The JSON holds a number with too many digits.", text) from exc
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise UnusableJSON(
            "A string holds a lone UTF-16 surrogate (such as \\ud800), which is not text; send valid Unicode.", text
        )
    return value


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def raw_decode(text: str, pos: int) -> tuple[Any, int]:
    """The JSON value starting at ``text[pos]`` and the index just past it, as
    ``json.JSONDecoder.raw_decode`` gives them; JSONDecodeError when none is there,
    UnusableJSON for one the app cannot use (as ``loads``)."""
    try:
        value, end = _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError:
        raise
    except RecursionError as exc:
        raise UnusableJSON("The JSON is nested too deeply.", text) from exc
    except ValueError as exc:
        raise UnusableJSON("The JSON holds a number with too many digits.", text) from exc
    if _SURROGATE_ESCAPE.search(text, pos, end) and _has_lone_surrogate(value):
        raise UnusableJSON(
            "A string holds a lone UTF-16 surrogate (such as \\ud800), which is not text; send valid Unicode.", text
        )
    return value, end


_DECODER = json.JSONDecoder()
