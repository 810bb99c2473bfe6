"""Notes from other apps: a zip of Markdown files, Google Keep (Takeout), memos, Evernote (ENEX).

Each reader turns the upload into the records Notes' own export holds
(title, content, tags, pinned, archived and times: ``serialize.export_record``),
and ``transfer.import_zip`` then checks and writes them exactly as it does
an export: every rule, all or nothing. What a reader leaves out (a file that
is not a note, a note in the other app's trash, an attachment) it names in
``skipped``, so the person sees what did not come over and why.

A note without a title takes one from its first line, as quick capture does
(rules.split_quick_note); a title too long for Notes is cut at a word and
kept whole at the top of the content. Tags beyond what a note may hold, or
that Notes cannot store (a comma), are left out and named.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import PurePosixPath
from typing import Any

import yaml
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from defusedxml.ElementTree import ParseError
from markdownify import markdownify

from .rules import MAX_TAGS_PER_NOTE, MAX_TITLE_LENGTH, TagError, clean_tag_name, split_quick_note, tag_key

MARKDOWN_SUFFIXES = (".md", ".markdown", ".txt")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_HEADING = re.compile(r"\A#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)
# A #hashtag: after a space or at the start of a line, a letter or digit right after the #
# (so "# Heading" is not one), up to a space or punctuation that ends a sentence.
_HASHTAG = re.compile(r"(?:(?<=\s)|^)#(\w[\w/-]*)", re.M)
_KEEP_NOTE = re.compile(r"(?:^|/)Keep/[^/]+\.json$")


# Reads one zip entry within the import's limits (transfer._EntryReader); raises when it cannot.
EntryReader = Callable[[zipfile.ZipFile, zipfile.ZipInfo], bytes]


class ImportProblem(ValueError):
    """The upload cannot be read as any format Notes knows; the message says what would work."""


@dataclass
class Source:
    """What a reader found: the records to import, and what it left out and why."""

    name: str
    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _iso(value: Any) -> str | None:
    """An aware UTC ISO 8601 string from a datetime, a date or an ISO string; None if it is none of them."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def hashtags(text: str) -> list[str]:
    """The #hashtags of a text, in order, without the #; trailing punctuation is not part of one."""
    return [tag.rstrip("/-") for tag in _HASHTAG.findall(text) if not tag.isdigit()]


def _note(
    source: Source,
    label: str,
    *,
    title: str | None,
    content: str,
    tags: list[str],
    pinned: bool = False,
    archived: bool = False,
    created: Any = None,
    updated: Any = None,
) -> None:
    """Add one note to ``source``, titled and tagged by the rules above; a blank one is skipped."""
    title = (title or "").strip()
    if not title:
        if not content.strip():
            source.skipped.append(f"{label}: empty")
            return
        title, content = split_quick_note(content)
    elif len(title) > MAX_TITLE_LENGTH:
        title, content = split_quick_note(f"{title}\n\n{content}")
    kept: dict[str, str] = {}
    for name in tags:
        try:
            cleaned = clean_tag_name(name)
        except TagError as exc:
            source.skipped.append(f"{label}: the tag {name!r} was left out. {exc}")
            continue
        kept.setdefault(tag_key(cleaned), cleaned)
    names = list(kept.values())
    if len(names) > MAX_TAGS_PER_NOTE:
        source.skipped.append(
            f"{label}: {len(names) - MAX_TAGS_PER_NOTE} tags beyond the {MAX_TAGS_PER_NOTE} a note may have "
            f"were left out ({', '.join(names[MAX_TAGS_PER_NOTE:])})"
        )
        names = names[:MAX_TAGS_PER_NOTE]
    created_at = _iso(created) or _iso(updated) or datetime.now(UTC).isoformat()
    source.records.append(
        {
            "title": title,
            "content": content,
            "tags": names,
            "pinned": bool(pinned),
            "archived": bool(archived),
            "created_at": created_at,
            "updated_at": _iso(updated) or created_at,
            "deleted_at": None,
        }
    )


def _text(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, read: EntryReader) -> str | None:
    """An entry's text (UTF-8, a BOM dropped), or None when it is not UTF-8."""
    try:
        return read(archive, entry).decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


# --- a zip of Markdown files (Obsidian, Joplin, Bear, iA Writer, a folder of .md) -------------


def _tag_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip().lstrip("#") for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [str(item).strip().lstrip("#") for item in value if str(item).strip()]
    return []


def read_markdown_zip(archive: zipfile.ZipFile, read: EntryReader) -> Source:
    """Each .md, .markdown or .txt file is a note. Its YAML front matter may give title, tags,
    pinned, archived, created and updated; else the title is the first line's heading or the file
    name, the tags the text's #hashtags, and the times the file's."""
    source = Source("a zip of Markdown files")
    others = 0
    for entry in archive.infolist():
        path = PurePosixPath(entry.filename)
        if entry.is_dir() or any(part.startswith((".", "__MACOSX")) for part in path.parts):
            continue
        label = entry.filename
        if path.suffix.lower() not in MARKDOWN_SUFFIXES:
            others += 1
            continue
        text = _text(archive, entry, read)
        if text is None:
            source.skipped.append(f"{label}: not UTF-8 text")
            continue
        front: dict[str, Any] = {}
        found = _FRONT_MATTER.match(text)
        if found:
            try:
                loaded = yaml.safe_load(found.group(1))
            except yaml.YAMLError:
                source.skipped.append(f"{label}: its front matter is not valid YAML")
                continue
            front = loaded if isinstance(loaded, dict) else {}
            text = text[found.end() :]
        title = front.get("title")
        if not isinstance(title, str) or not title.strip():
            heading = _HEADING.match(text.lstrip("\r\n"))
            if heading:
                title = heading.group(1)
                text = text.lstrip("\r\n")[heading.end() :].lstrip("\r\n")
            else:
                title = path.stem
        tags = _tag_list(front.get("tags")) if "tags" in front else hashtags(text)
        moment = datetime(*entry.date_time, tzinfo=UTC)
        _note(
            source,
            label,
            title=title,
            content=text.strip("\r\n"),
            tags=tags,
            pinned=front.get("pinned") is True,
            archived=front.get("archived") is True,
            created=front.get("created", front.get("created_at", front.get("date", moment))),
            updated=front.get("updated", front.get("updated_at", moment)),
        )
    if others:
        what = "file that is" if others == 1 else "files that are"
        source.skipped.append(f"{others} {what} not Markdown or text")
    return source


# --- Google Keep, from Google Takeout ------------------------------------------------------


def _usec(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1_000_000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def read_keep(archive: zipfile.ZipFile, read: EntryReader) -> Source:
    """Takeout's Keep/*.json, one note each: title, text or checklist, labels, pinned, archived
    and times. Notes in Keep's trash and attachments are left out (named in skipped)."""
    source = Source("Google Keep")
    others = 0
    for entry in archive.infolist():
        if entry.is_dir():
            continue
        if not _KEEP_NOTE.search(entry.filename):
            others += 1
            continue
        label = PurePosixPath(entry.filename).name
        text = _text(archive, entry, read)
        try:
            item = json.loads(text) if text is not None else None
        except ValueError:
            item = None
        if not isinstance(item, dict):
            source.skipped.append(f"{label}: not a Keep note")
            continue
        if item.get("isTrashed") is True:
            source.skipped.append(f"{label}: in Keep's trash")
            continue
        content = str(item.get("textContent") or "")
        checklist = item.get("listContent")
        if isinstance(checklist, list):
            lines = [
                f"- [{'x' if row.get('isChecked') else ' '}] {str(row.get('text', '')).strip()}"
                for row in checklist
                if isinstance(row, dict)
            ]
            content = "\n".join([content, *lines] if content else lines)
        attachments = item.get("attachments")
        if isinstance(attachments, list) and attachments:
            source.skipped.append(f"{label}: {len(attachments)} attachment(s) not imported (the text was)")
        labels = item.get("labels")
        labels = labels if isinstance(labels, list) else []
        _note(
            source,
            label,
            title=str(item.get("title") or ""),
            content=content,
            tags=[str(lab.get("name", "")) for lab in labels if isinstance(lab, dict)],
            pinned=item.get("isPinned") is True,
            archived=item.get("isArchived") is True,
            created=_usec(item.get("createdTimestampUsec")),
            updated=_usec(item.get("userEditedTimestampUsec")),
        )
    if others:
        source.skipped.append(f"{others} other Takeout file{'s' if others != 1 else ''} (HTML copies, media, labels)")
    return source


# --- memos (its API's list of memos, as JSON) ------------------------------------------------


def read_memos(data: bytes) -> Source:
    """The JSON of memos' ListMemos API ({"memos": [...]}): each memo's content, tags, pinned,
    archived state and times. Memos have no titles: the first line becomes one."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImportProblem("The file is not valid JSON text; upload the JSON memos' API gave you.") from exc
    memos = document.get("memos") if isinstance(document, dict) else None
    if not isinstance(memos, list):
        raise ImportProblem('This JSON is not a memos export: it has no "memos" list.')
    source = Source("memos")
    for n, memo in enumerate(memos, start=1):
        label = f"memo {n}"
        if not isinstance(memo, dict) or not isinstance(memo.get("content"), str):
            source.skipped.append(f"{label}: not a memo")
            continue
        state = memo.get("state", memo.get("rowStatus"))
        content = memo["content"]
        listed = memo.get("tags")
        tags = listed if isinstance(listed, list) else hashtags(content)
        _note(
            source,
            label,
            title=None,
            content=content,
            tags=[str(t) for t in tags],
            pinned=memo.get("pinned") is True,
            archived=state == "ARCHIVED",
            created=memo.get("createTime", memo.get("displayTime")),
            updated=memo.get("updateTime"),
        )
    return source


# --- Evernote (.enex) ---------------------------------------------------------------------


def _enex_time(value: str | None) -> datetime | None:
    try:
        return datetime.strptime(value or "", "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _enml_to_markdown(enml: str) -> tuple[str, int]:
    """An Evernote note's ENML as Markdown, and how many attachments (en-media) it held."""
    media = len(re.findall(r"<en-media\b", enml))
    # Checkboxes become task boxes; attachments are left out (counted above).
    enml = re.sub(r'<en-todo\s+checked="true"\s*/?>(?:</en-todo>)?', "[x] ", enml)
    enml = re.sub(r"<en-todo\b[^>]*/?>(?:</en-todo>)?", "[ ] ", enml)
    enml = re.sub(r"<en-media\b[^>]*/?>(?:</en-media>)?", "", enml)
    enml = re.sub(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>", "", enml)
    text = markdownify(enml, heading_style="ATX", bullets="-", strip=["en-note", "span", "font", "div"])
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    # markdownify escapes the brackets of "[ ] task" at the start of list items: undo that.
    text = re.sub(r"^(\s*[-*] )\\\[([ x])\\\] ", r"\1[\2] ", text, flags=re.M)
    return text, media


def read_enex(data: bytes) -> Source:
    """An Evernote export: each <note>'s title, content (ENML, to Markdown), tags and times.
    Parsed by defusedxml: no entity expansion, no external entities."""
    try:
        root = ElementTree.fromstring(data)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise ImportProblem(f"This Evernote file cannot be read: {exc}. Export the notebook again.") from exc
    if root.tag != "en-export":
        raise ImportProblem("This XML is not an Evernote export (.enex).")
    source = Source("Evernote")
    for n, note in enumerate(root.findall("note"), start=1):
        title = (note.findtext("title") or "").strip()
        label = f"note {n} ({title or 'untitled'})"
        content, media = _enml_to_markdown(note.findtext("content") or "")
        if media:
            source.skipped.append(f"{label}: {media} attachment(s) not imported (the text was)")
        _note(
            source,
            label,
            title=title,
            content=content,
            tags=[(tag.text or "") for tag in note.findall("tag")],
            created=_enex_time(note.findtext("created")),
            updated=_enex_time(note.findtext("updated")),
        )
    return source


def foreign_zip(archive: zipfile.ZipFile, read: EntryReader) -> Source | None:
    """The reader for a zip that is not a Notes export, or None when no reader knows it."""
    names = archive.namelist()
    if any(_KEEP_NOTE.search(name) for name in names):
        return read_keep(archive, read)
    if any(PurePosixPath(name).suffix.lower() in MARKDOWN_SUFFIXES for name in names):
        return read_markdown_zip(archive, read)
    return None


def foreign_file(data: bytes) -> Source | None:
    """The reader for an upload that is not a zip (ENEX or memos JSON), or None."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return read_enex(data)
    if head.startswith(b"{"):
        return read_memos(data)
    return None
