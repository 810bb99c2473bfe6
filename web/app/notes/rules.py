"""A note's rules, in one place for the HTML forms, the API schemas (and so the
OpenAPI document) and the importer: limits, what a title, content and tag
may hold, and the messages that say what to fix.
"""

from __future__ import annotations

import re

from ..text_rules import NOT_BLANK_NO_NUL_PATTERN, NUL_MESSAGE, SPACE_CLASS, has_nul, is_blank

MAX_TITLE_LENGTH = 200
MAX_CONTENT_CHARS = 100_000
MAX_TAG_LENGTH = 50
MAX_TAGS_PER_NOTE = 20
MAX_QUERY_LENGTH = 200

TITLE_REQUIRED = "Give the note a title."
TITLE_TOO_LONG = f"Keep the title to {MAX_TITLE_LENGTH} characters."
CONTENT_TOO_LONG = f"Keep the note to {MAX_CONTENT_CHARS:,} characters."
TITLE_OR_CONTENT_REQUIRED = "Give the note a title, or content whose first line becomes the title."
# Lifetimes a share link may be given, in days (app.notes.sharing); none: until revoked.
SHARE_DAYS = (1, 7, 30, 365)
SHARE_DAYS_PROBLEM = "A link lives 1, 7, 30 or 365 days, or until you revoke it."
QUICK_NOTE_EMPTY = "Write something first: the first line becomes the title."
# Attachments (app.notes.attachments): the name a file came with is kept, cut to this.
MAX_FILENAME_LENGTH = 255
# Image types a browser may show inline: raster formats only. SVG can hold
# scripts, so it is always a download, whatever it claims to be.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def mebibytes(size: int) -> str:
    """``size`` bytes as people read it in a message: "10 MiB", "1.5 MiB", "512 KiB", "20 bytes"."""
    if size < 1024:
        return f"{size} byte{'' if size == 1 else 's'}"
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale or unit == "KiB":
            amount = size / scale
            return f"{amount:.0f} {unit}" if amount == int(amount) or amount >= 100 else f"{amount:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def attachment_too_large(limit: int) -> str:
    return f"The file is larger than {mebibytes(limit)}; attach a smaller one."


def attachment_over_quota(quota: int, used: int) -> str:
    return (
        f"That would take your attachments past {mebibytes(quota)} "
        f"({mebibytes(used)} used); delete some attachments first."
    )


# JSON Schema for the same rules. A title: not blank, no NUL; a tag: 1-50
# characters, no comma or NUL, not only spaces.
TITLE_PATTERN = NOT_BLANK_NO_NUL_PATTERN
TAG_PATTERN = rf"^[^\u0000,]*[^\u0000,{SPACE_CLASS}][^\u0000,]*$"


class TagError(ValueError):
    """A tag name or list that cannot be used; the message says how to fix it."""


def title_problem(title: str) -> str | None:
    """What is wrong with ``title`` (already stripped), or None."""
    if is_blank(title):
        return TITLE_REQUIRED
    if len(title) > MAX_TITLE_LENGTH:
        return TITLE_TOO_LONG
    if has_nul(title):
        return NUL_MESSAGE
    return None


def content_problem(content: str) -> str | None:
    """What is wrong with a note's ``content``, or None. Empty content is fine."""
    if len(content) > MAX_CONTENT_CHARS:
        return CONTENT_TOO_LONG
    if has_nul(content):
        return NUL_MESSAGE
    return None


def tag_key(name: str) -> str:
    """What makes two tag names the same tag: case folded, spaces folded.

    Folded in Python: SQLite's lower() folds ASCII only and Postgres' depends
    on the locale, so neither can be the judge of "the same tag" (Å and å).
    """
    return " ".join(name.split()).casefold()


def clean_tag_name(name: str) -> str:
    """``name`` with spaces trimmed and folded; TagError when it cannot be a tag."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise TagError("A tag needs at least one character.")
    if len(cleaned) > MAX_TAG_LENGTH:
        raise TagError(f"Keep each tag to {MAX_TAG_LENGTH} characters.")
    if "," in cleaned or has_nul(cleaned):
        raise TagError("A tag cannot contain commas; separate tags with commas instead.")
    return cleaned


def clean_tag_list(names: list[str]) -> list[str]:
    """Usable, distinct tag names (the first spelling of each wins); TagError otherwise."""
    seen: dict[str, str] = {}
    for name in names:
        cleaned = clean_tag_name(name)
        seen.setdefault(tag_key(cleaned), cleaned)
    if len(seen) > MAX_TAGS_PER_NOTE:
        raise TagError(f"A note can have at most {MAX_TAGS_PER_NOTE} tags.")
    return list(seen.values())


def parse_tags(text: str) -> list[str]:
    """Comma-separated tag names, cleaned and without duplicates (ignoring case)."""
    return clean_tag_list([part for part in (text or "").split(",") if part.strip()])


_HEADING_MARK = re.compile(r"^#{1,6}\s+")


def split_quick_note(text: str) -> tuple[str, str]:
    """A quick note's title and content from one text, as phone notes apps do.

    The first non-blank line is the title (without a Markdown heading's
    ``#``), the lines after it the content. A first line too long for a
    title is cut at a word with "…", and then the content keeps the whole
    text, so nothing typed is lost. Raises ValueError(QUICK_NOTE_EMPTY) when
    ``text`` is blank.
    """
    stripped = text.strip()
    if is_blank(stripped):
        raise ValueError(QUICK_NOTE_EMPTY)
    first, _, rest = stripped.partition("\n")
    title = _HEADING_MARK.sub("", first).strip() or first.strip()
    if len(title) <= MAX_TITLE_LENGTH:
        return title, rest.strip("\r\n").rstrip()
    cut = title[: MAX_TITLE_LENGTH - 1]
    # A word boundary in the second half of the cut, else a hard cut.
    space = cut.rfind(" ", MAX_TITLE_LENGTH // 2)
    return (cut[:space] if space > 0 else cut).rstrip() + "…", stripped
