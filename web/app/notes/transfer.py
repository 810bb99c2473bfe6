"""Export all of a user's notes as a zip, and import such a zip back.

The zip holds one Markdown file per note with YAML front matter, for people
and other tools, ``notes.json`` with everything, which import reads, and each
note's files under ``files/<key>/<name>`` (the Markdown files link to them
there; notes.json keeps ``attachment:KEY``).
Exporting what was imported gives the same bytes: the file names, order and
zip timestamps come from the notes themselves, never from the clock.

Import checks the whole archive before writing anything, and writes every
note in one transaction: it never leaves half an import behind.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import functools
import hashlib
import io
import json
import re
import shutil
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any, cast
from urllib.parse import quote

import sqlalchemy as sa
import yaml
from flask import current_app

from ..accounts.models import Owner, User
from ..db.snapshot import one_snapshot
from ..extensions import db
from ..http.jsonbody import UnusableJSON
from ..limits.service import check, spend
from .attachments import AttachmentError, Cleaned, clean_upload, new_key, open_bytes, reserve_quota, store, taken_keys
from .importers import ImportProblem, Source, foreign_file, foreign_zip
from .jsonstream import JSONStream
from .markdown import ATTACHMENT_SCHEME
from .models import Attachment, Note, NoteRevision, excerpt_columns, note_tags
from .rules import TagError, clean_tag_list, content_problem, mebibytes, tag_key, title_problem
from .serialize import export_record, revision_record
from .storage import is_key
from .tags import ensure_tags

FORMAT = "notes-export"
FORMAT_VERSION = 1
INDEX_NAME = "notes.json"
FILES_DIR = "files/"
# An import's limits come from the settings IMPORT_MAX_NOTES and IMPORT_MAX_MB
# (app/config.py); the number of entries and what the text may expand to follow.
ENTRIES_PER_NOTE = 2  # a Markdown file each, and room for as many files
EXPANSION = 5  # what an archive's text may expand to, times the archive's allowance


def max_notes() -> int:
    """The most notes one import may hold (IMPORT_MAX_NOTES)."""
    return int(current_app.config["IMPORT_MAX_NOTES"])


def max_entries() -> int:
    """The most entries an import's zip may have."""
    return ENTRIES_PER_NOTE * max_notes()


def max_expanded() -> int:
    """What the text of an import's zip may expand to, in bytes, files aside."""
    return EXPANSION * int(current_app.config["IMPORT_MAX_BYTES"])


def archive_limit() -> int:
    """The largest upload an import takes: the notes' allowance (IMPORT_MAX_MB) and a full quota of files."""
    return int(current_app.config["IMPORT_MAX_BYTES"]) + int(current_app.config["ATTACHMENT_QUOTA_BYTES"])


def spool_upload(stream: IO[bytes]) -> IO[bytes]:
    """``stream`` copied into a temporary file (deleted when closed), read from its start, so that
    an import reads the upload from disk rather than holding it in memory. It stops one byte
    past archive_limit(): the import then refuses it as too large."""
    spooled = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it)
    try:
        left = archive_limit() + 1
        while left > 0 and (chunk := stream.read(min(left, 1024 * 1024))):
            spooled.write(chunk)
            left -= len(chunk)
    except BaseException:  # a client gone mid-upload: the file is not the caller's yet
        spooled.close()
        raise
    spooled.seek(0)
    return spooled


class ImportError_(ValueError):
    """The archive cannot be imported; the message says what is wrong. Nothing was written."""


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_title).strip("-").lower()
    return slug[:60] or "note"


def _markdown_file(record: dict[str, Any]) -> str:
    front = {k: record[k] for k in ("title", "tags", "pinned", "archived", "created_at", "updated_at")}
    if record["deleted_at"]:
        front["deleted_at"] = record["deleted_at"]
    return f"---\n{_front_matter(front)}---\n\n{record['content']}"


def _yaml(front: dict[str, Any]) -> str:
    return yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)


# PyYAML's emitter was most of an export's time (docs/performance.md). A top-level
# mapping is its entries one after the other, so each entry is written alone, and
# the common shapes without PyYAML, exactly as it writes them: a time as an ISO
# string in UTC, quoted (it would read as a timestamp); a flag; a title of letters,
# digits and single spaces that no YAML reader takes for anything but a string.
# tests/unit/notes/test_transfer.py checks them against yaml.safe_dump.
_ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{6})?\+00:00")
_PLAIN = re.compile(r"[A-Za-z](?:[A-Za-z0-9]| (?=[A-Za-z0-9]))*")
_RESERVED = frozenset({"yes", "no", "true", "false", "on", "off", "null", "y", "n"})


@functools.lru_cache(maxsize=4096)
def _tags_entry(tags: tuple[str, ...]) -> str:
    return _yaml({"tags": list(tags)})


def _front_matter(front: dict[str, Any]) -> str:
    """``yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)``, faster."""
    parts = []
    for key, value in front.items():
        if isinstance(value, bool):
            parts.append(f"{key}: {'true' if value else 'false'}\n")
        elif key == "tags":
            parts.append(_tags_entry(tuple(value)))
        elif isinstance(value, str) and (
            (key != "title" and _ISO_UTC.fullmatch(value))
            or (key == "title" and _PLAIN.fullmatch(value) and value.lower() not in _RESERVED)
        ):
            parts.append(f"{key}: '{value}'\n" if key != "title" else f"{key}: {value}\n")
        else:
            parts.append(_yaml({key: value}))
    return "".join(parts)


def export_file(user: User) -> IO[bytes]:
    """All of ``user``'s notes (live, archived and trashed) as a zip in a temporary file, read
    from its start. The file has no name on disk: closing it (the response does) deletes it.

    The notes are read in batches, all from one snapshot of the database: a note deleted,
    edited or added while a long export runs is exported as it was when the export began
    (or not at all), never half, and every file in the zip belongs to a note in it.

    Raises RateLimited once ``user`` has exported EXPORTS_PER_WINDOW times in USAGE_WINDOW,
    before anything is read; an error while writing closes (deletes) the file and propagates.
    """
    owner_id = user.id  # before spending commits, which would have it read again
    _spend("export", user, current_app.config["EXPORTS_PER_WINDOW"], "exports")
    out = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it: the response does)
    try:
        with one_snapshot(db.session()):
            _write_export(owner_id, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def export_zip(user: User) -> bytes:
    """``export_file``'s zip as bytes, whole in memory: for callers that want the archive
    itself (tests, the CLI), never for a response. Fails as export_file does."""
    with export_file(user) as fh:
        return fh.read()


# Notes read at a time by an export: its memory stays that of one batch,
# whatever the account holds, and its statements grow by a few per batch.
EXPORT_BATCH = 500
_INDEX_HEAD = f'{{\n  "format": {json.dumps(FORMAT)},\n  "version": {FORMAT_VERSION},\n  "notes": ['
_INDEX_ITEM = "\n    "


def _write_export(owner_id: int, out: IO[bytes]) -> None:
    """Write the zip of the notes of ``owner_id`` into ``out``, batch by batch.

    The entries come in the order one whole-in-memory pass gave (every file, then every
    Markdown file, then notes.json), so the bytes are the same: notes.json, which follows
    every Markdown file, goes to a second temporary file as the batches pass and is copied
    into the zip at the end; it is the text ``json.dumps(index, ensure_ascii=False, indent=2)``
    of the whole index, written a note at a time.
    """
    order = _export_order(owner_id)
    files = _attachments_by_note(owner_id)
    with (
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        tempfile.TemporaryFile() as index,
    ):
        kept: dict[int, list[dict[str, Any]]] = {}
        for note_id in order:
            if note_id in files:
                records = _export_files(archive, files.pop(note_id))
                if records:
                    kept[note_id] = records
        index.write(_INDEX_HEAD.encode())
        latest = datetime(2000, 1, 1, tzinfo=UTC)
        # Two notes' file names can only clash on the same day (the name starts with
        # it), and the notes come by date: the names of one day are enough to remember.
        day, used = "", set[str]()
        first = True
        for start in range(0, len(order), EXPORT_BATCH):
            batch = order[start : start + EXPORT_BATCH]
            notes, history = _export_batch(batch)
            for note in notes:
                record = export_record(note)
                if note.id in history:
                    record["revisions"] = history[note.id]
                if note.id in kept:
                    record["attachments"] = kept[note.id]
                date = f"{note.created_at.astimezone(UTC):%Y-%m-%d}"
                if date != day:
                    day, used = date, set()
                base = f"notes/{date}-{_slug(note.title)}"
                name, n = f"{base}.md", 1
                while name in used:
                    n += 1
                    name = f"{base}-{n}.md"
                used.add(name)
                archive.writestr(_entry(name, note.updated_at), _markdown_file(_linked_to_files(record)))
                text = json.dumps(record, ensure_ascii=False, indent=2).replace("\n", _INDEX_ITEM)
                index.write(("" if first else ",").encode() + (_INDEX_ITEM + text).encode())
                latest = note.updated_at if first else max(latest, note.updated_at)
                first = False
                db.session.expunge(note)
        index.write(("\n  ]\n}\n" if order else "]\n}\n").encode())
        info = _entry(INDEX_NAME, latest)
        # What writestr would have set: it decides whether the entry needs zip64.
        info.file_size = index.tell()
        index.seek(0)
        with archive.open(info, "w") as entry:
            shutil.copyfileobj(index, entry, 1024 * 1024)


def _export_order(owner_id: int) -> list[int]:
    """The ids of the notes of ``owner_id`` in the export's order: by creation, then title and
    text in code point order (Python's, which Postgres gives under the "C" collation and
    SQLite always), then id."""
    texts: list[Any] = [Note.title, Note.content]
    if db.session.get_bind().dialect.name == "postgresql":
        texts = [sa.collate(column, "C") for column in texts]
    statement = sa.select(Note.id).where(Note.owner_id == owner_id).order_by(Note.created_at, *texts, Note.id)
    return list(db.session.scalars(statement))


def _attachments_by_note(owner_id: int) -> dict[int, list[Attachment]]:
    """Every file of ``owner_id``, by note, oldest first (their rows are few: the quota bounds them)."""
    files: dict[int, list[Attachment]] = {}
    attachments = sa.select(Attachment).where(Attachment.owner_id == owner_id).order_by(Attachment.id)
    for attachment in db.session.scalars(attachments):
        files.setdefault(attachment.note_id, []).append(attachment)
    return files


def _export_batch(ids: list[int]) -> tuple[list[Note], dict[int, list[dict[str, Any]]]]:
    """The notes ``ids`` (with their tags), in that order, and the history of each, oldest
    first: three statements, however many notes. The revisions leave the session at once;
    the caller expunges the notes."""
    position = {note_id: n for n, note_id in enumerate(ids)}
    notes = sorted(db.session.scalars(sa.select(Note).where(Note.id.in_(ids))), key=lambda n: position[n.id])
    history: dict[int, list[dict[str, Any]]] = {}
    revisions = sa.select(NoteRevision).where(NoteRevision.note_id.in_(ids))
    for revision in db.session.scalars(revisions.order_by(NoteRevision.note_id, NoteRevision.id)):
        history.setdefault(revision.note_id, []).append(revision_record(revision))
        db.session.expunge(revision)
    return notes, history


def _file_path(attachment: Attachment) -> str:
    return f"files/{attachment.key}/{_safe_name(attachment.filename)}"


def _safe_name(filename: str) -> str:
    """A file's name as a zip entry: no directories, nothing a zip tool would refuse."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", filename).strip(" .")
    return name or "file"


def _export_files(archive: zipfile.ZipFile, attachments: list[Attachment]) -> list[dict[str, Any]]:
    """Write a note's files into the archive; their records for notes.json (a file whose bytes
    storage lost is left out, and logged)."""
    records = []
    for attachment in attachments:
        try:
            data = open_bytes(attachment)
        except FileNotFoundError:
            current_app.logger.error("export: attachment %s has a row but no stored file", attachment.key)
            continue
        path = _file_path(attachment)
        archive.writestr(_entry(path, attachment.created_at), data)
        records.append(
            {
                "key": attachment.key,
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "sha256": attachment.sha256,
                "created_at": attachment.created_at.astimezone(UTC).isoformat(),
                "path": path,
            }
        )
    return records


def _linked_to_files(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with its ``attachment:KEY`` links pointing at the files beside it in the zip."""
    content = record["content"]
    for attachment in record.get("attachments", []):
        content = content.replace(f"{ATTACHMENT_SCHEME}{attachment['key']}", "../" + quote(attachment["path"]))
    return {**record, "content": content}


def _entry(name: str, moment: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=moment.astimezone(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


@dataclass(frozen=True)
class Imported:
    """What an import created: how many notes, from what, and what it left out and why."""

    count: int
    source: str = "a Notes export"
    skipped: list[str] = dataclasses.field(default_factory=list)


# Notes written per statement by an import (all in one transaction).
IMPORT_BATCH = 1000


def import_zip(user: Owner, data: bytes | IO[bytes], *, commit: bool = True) -> Imported:
    """Recreate the notes of an export zip, or of another app's export
    (app.notes.importers), for ``user``; all of them or none. ``data`` is the
    upload's bytes or a seekable file of them (``spool_upload``), which the caller closes.

    Raises ImportError_ (nothing written) for anything but a sound upload:
    no format Notes knows, too large, a zip bomb, unsafe paths, bad encoding,
    or notes that break the app's own limits; RateLimited once ``user`` has tried
    IMPORTS_PER_WINDOW imports in USAGE_WINDOW (a refused one counts too:
    reading an archive is the costly part).
    """
    use = {
        "key": f"import:user:{user.id}",
        "limit": current_app.config["IMPORTS_PER_WINDOW"],
        "window": current_app.config["USAGE_WINDOW"],
        "what": "imports",
    }
    check(**use)  # reads only: nothing is written before the archive is checked
    with contextlib.ExitStack() as opened:
        try:
            source = _read_upload(io.BytesIO(data) if isinstance(data, bytes) else data)
            if isinstance(source, Source):
                plan = _plan_source(user, source)
            else:
                # A Notes export's notes.json is read as a stream until it is written.
                opened.callback(source.archive.close)
                plan = _plan_export(user, source)
        except ImportError_:
            spend(**use)  # a refused import counts too: reading the archive is the cost
            raise
        return _write(user, plan, use, commit=commit)


def _write(user: Owner, plan: _Plan, use: dict[str, Any], *, commit: bool) -> Imported:
    """Write a checked import in one transaction (committed unless ``commit`` is False)."""
    # Everything is checked before the transaction starts, and the writes are
    # a few bulk statements: on SQLite the transaction holds the database's
    # one write lock, which every other user's write waits for. The use is
    # counted with the import itself, so an import cut short leaves no trace.
    try:
        spend(**use, commit=False)
        tag_ids = ensure_tags(user.id, plan.tag_names)
        note_ids: list[int] = []
        # In batches: a statement's parameters for a few notes at a time rather than
        # for the whole archive at once, all in the one transaction.
        for rows, records in plan.batches():
            ids = _insert_notes(rows)
            _set_versions(ids, rows)
            _insert_revisions(
                [
                    {**revision, "note_id": note_id, "author_id": user.id, "client": "import"}
                    for note_id, record in zip(ids, records, strict=True)
                    for revision in record.get("revisions") or []
                ]
            )
            _link_tags(
                [
                    {"note_id": note_id, "tag_id": tag_ids[tag_key(name)]}
                    for note_id, record in zip(ids, records, strict=True)
                    for name in record["tags"]
                ]
            )
            note_ids.extend(ids)
        _insert_files(user, note_ids, plan.files, plan.file_bytes)
        if commit:
            db.session.commit()
        else:  # the caller commits it together with more (an Idempotency-Key's answer)
            db.session.flush()
    except Exception:
        db.session.rollback()
        raise
    return Imported(plan.count, plan.source, plan.skipped)


@dataclass
class _Plan:
    """A checked import, ready to write: its notes come batch by batch from ``batches``
    (their rows, and their records with the tags and revisions checked), and its files'
    bytes from ``file_bytes``."""

    count: int
    source: str
    skipped: list[str]
    tag_names: list[str]
    files: list[_File]
    batches: Callable[[], Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]]
    file_bytes: Callable[[_File], bytes]


def _plan_source(user: Owner, source: Source) -> _Plan:
    """The plan of an import whose records are all in memory (another app's export)."""
    records = source.records
    rows = [_build(user, record, n) for n, record in enumerate(records, start=1)]
    files = _plan_files(user, records, rows)

    def batches() -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
        for start in range(0, len(rows), IMPORT_BATCH):
            yield rows[start : start + IMPORT_BATCH], records[start : start + IMPORT_BATCH]

    return _Plan(
        count=len(rows),
        source=source.name,
        skipped=source.skipped,
        tag_names=[name for record in records for name in record["tags"]],
        files=files,
        batches=batches,
        file_bytes=lambda file: cast(bytes, file.data),
    )


@dataclass(frozen=True)
class _File:
    """An attachment of note ``index`` (0-based) of an import, checked, under the key it will
    have: its bytes (``size`` of them, as stored), or where in the archive they are (``path``)."""

    index: int
    key: str
    filename: str
    content_type: str
    size: int
    created_at: datetime
    data: bytes | None = None
    path: str | None = None


def _checked_file(where: str, file: dict[str, Any], n: int) -> tuple[str, str, Cleaned, datetime]:
    """The key, file name, bytes (as they will be stored) and time of a file of note ``n``
    whose ``data`` was read from the archive; ImportError_ for a bad one."""
    limit = int(current_app.config["ATTACHMENT_MAX_BYTES"])
    old, filename, data = file.get("key"), file.get("filename"), file.get("data")
    if not isinstance(old, str) or not isinstance(filename, str) or not isinstance(data, bytes):
        raise ImportError_(f"{where}: its key and filename must be text, and its file in the archive.")
    if file.get("sha256") != hashlib.sha256(data).hexdigest():
        raise ImportError_(f"{where} ({filename}) is not the file that was exported (its SHA-256 differs).")
    if len(data) > limit:
        raise ImportError_(f"{where} ({filename}) is larger than {mebibytes(limit)}, the largest file allowed.")
    try:
        cleaned = clean_upload(data)
    except AttachmentError as exc:
        raise ImportError_(f"{where} ({filename}): {exc}") from exc
    created = _parse_time(file.get("created_at"), "a file's created_at", n)
    return old, filename, cleaned, created


def _relinked(row: dict[str, Any], record: dict[str, Any], old: str, key: str) -> None:
    """Point the ``attachment:`` links of a note (``row``) and of its revisions (``record``'s)
    from file ``old`` to ``key``, in place."""
    content = row["content"].replace(ATTACHMENT_SCHEME + old, ATTACHMENT_SCHEME + key)
    row.update(content=content, **excerpt_columns(content))
    for revision in record["revisions"]:
        revision["content"] = revision["content"].replace(ATTACHMENT_SCHEME + old, ATTACHMENT_SCHEME + key)


def _plan_files(user: Owner, records: list[Any], rows: list[dict[str, Any]]) -> list[_File]:
    """The checked attachments of an export's notes, with keys of their own. A key already in
    use gets a new one, and the note's and its revisions' ``attachment:`` links follow it
    (``rows`` and the records' revisions are changed in place). ImportError_ for a bad one."""
    wanted = [f.get("key") for r in records for f in r.get("attachments") or [] if isinstance(f.get("key"), str)]
    taken = taken_keys(wanted)
    planned: list[_File] = []
    for index, record in enumerate(records):
        for f, file in enumerate(record.get("attachments") or [], start=1):
            old, filename, cleaned, created = _checked_file(f"Note {index + 1}, file {f}", file, index + 1)
            key = old if is_key(old) and old not in taken else new_key()
            taken.add(key)
            if key != old:
                _relinked(rows[index], record, old, key)
            planned.append(
                _File(index, key, filename[:255], cleaned.content_type, len(cleaned.data), created, data=cleaned.data)
            )
    return planned


def _insert_files(user: Owner, note_ids: list[int], files: list[_File], file_bytes: Callable[[_File], bytes]) -> None:
    """Store the import's files, whose bytes ``file_bytes`` gives, and their rows (not
    committed; a rollback removes the bytes). ImportError_ when they do not fit the quota."""
    if not files:
        return
    try:
        reserve_quota(user.id, sum(f.size for f in files))
    except AttachmentError as exc:
        raise ImportError_(f"The archive's files do not fit: {exc}") from exc
    rows = []
    for file in files:
        data = file_bytes(file)
        store(file.key, data)
        rows.append(
            {
                "note_id": note_ids[file.index],
                "owner_id": user.id,
                "key": file.key,
                "filename": file.filename,
                "content_type": file.content_type,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "created_at": file.created_at,
            }
        )
    db.session.execute(sa.insert(Attachment), rows)


def _spend(kind: str, user: Owner, limit: int, what: str) -> None:
    spend(f"{kind}:user:{user.id}", limit=limit, window=current_app.config["USAGE_WINDOW"], what=what)


def _insert_notes(rows: list[dict[str, Any]]) -> list[int]:
    """Insert the notes (not committed); their ids, in the order of ``rows``."""
    if not rows:
        return []
    statement = sa.insert(Note).returning(Note.id, sort_by_parameter_order=True)
    return list(db.session.scalars(statement, rows))


def _set_versions(note_ids: list[int], rows: list[dict[str, Any]]) -> None:
    """Number the notes with a history after it (not committed). The ORM starts every new
    note at version 1 whatever it is given (version_id_col), so this goes to the table,
    and sets updated_at again so that its onupdate leaves the imported time alone."""
    later = [
        {"b_id": note_id, "b_version": row["version"], "b_updated": row["updated_at"]}
        for note_id, row in zip(note_ids, rows, strict=True)
        if row["version"] > 1
    ]
    if later:
        table = cast(sa.Table, Note.__table__)
        statement = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"))
            .values(version=sa.bindparam("b_version"), updated_at=sa.bindparam("b_updated"))
        )
        db.session.execute(statement, later)


def _insert_revisions(rows: list[dict[str, Any]]) -> None:
    """Give the new notes their history (not committed), in the order it was exported."""
    if rows:
        db.session.execute(sa.insert(NoteRevision), rows)


# Tag links per INSERT: a few hundred rows' parameters stay within every
# SQLite's limit on a statement's variables.
LINKS_PER_STATEMENT = 400


def _link_tags(pairs: list[dict[str, int]]) -> None:
    """Give the new notes their tags (not committed), many rows per statement: PostgreSQL's
    tag counts are kept once per statement (app/notes/tag_counts.py), where a list of
    parameters would be one statement per row."""
    for start in range(0, len(pairs), LINKS_PER_STATEMENT):
        db.session.execute(sa.insert(note_tags).values(pairs[start : start + LINKS_PER_STATEMENT]))


NOT_KNOWN = (
    "Notes cannot read this file. Upload a Notes export (.zip), a zip of Markdown files, a Google Keep "
    "Takeout (.zip), a memos export (.json) or an Evernote export (.enex)."
)


class _EntryReader:
    """Reads a zip's entries within ``limit`` bytes in all (max_expanded() unless told),
    whatever their sizes claim."""

    def __init__(self, limit: int | None = None) -> None:
        self.total = 0
        self.limit = max_expanded() if limit is None else limit

    def __call__(self, archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bytes:
        budget = self.limit - self.total
        with _reading(entry), archive.open(entry) as fh:
            raw = fh.read(budget + 1)
        self.total += len(raw)
        if self.total > self.limit:
            raise ImportError_(_too_expanded(self.limit))
        return raw


@contextlib.contextmanager
def _reading(entry: zipfile.ZipInfo) -> Iterator[None]:
    """Turn zipfile's errors while reading ``entry`` into ImportError_."""
    try:
        yield
    except (RuntimeError, NotImplementedError) as exc:
        # zipfile's words for an encrypted entry and a compression it cannot read.
        raise ImportError_(
            f"{entry.filename} is encrypted or compressed in a way Notes cannot read; zip it again without a password."
        ) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ImportError_("The archive is damaged; make it again.") from exc


def _too_expanded(limit: int) -> str:
    return f"The archive expands to more than {mebibytes(limit)} (a zip bomb?)."


def _read_upload(upload: IO[bytes]) -> Source | _NotesExport:
    """The notes of an upload (a seekable file of its bytes), whichever format it is in:
    another app's, all read, or a Notes export, whose notes.json is left to read as a
    stream (its archive open; the caller closes it). ImportError_ when none fits."""
    if upload.seek(0, io.SEEK_END) > archive_limit():
        raise ImportError_(f"The file is larger than {mebibytes(archive_limit())}.")
    upload.seek(0)
    try:
        archive = zipfile.ZipFile(upload)
    except zipfile.BadZipFile:
        upload.seek(0)
        try:
            source = foreign_file(upload.read())
        except ImportProblem as exc:
            raise ImportError_(str(exc)) from exc
        if source is None:
            raise ImportError_(NOT_KNOWN) from None
        return _within_limit(source)
    try:
        entries = archive.infolist()
        if len(entries) > max_entries():
            raise ImportError_(f"The archive has more than {max_entries()} files.")
        # Attachments (files/...) have a budget of their own: the quota.
        quota = int(current_app.config["ATTACHMENT_QUOTA_BYTES"])
        text = files = 0
        for entry in entries:
            _check_name(entry.filename)
            if entry.filename.startswith(FILES_DIR):
                files += entry.file_size
            else:
                text += entry.file_size
        # A zip bomb packs a huge expansion into a small file: refuse by the
        # declared sizes before expanding anything, and below read no more
        # than the limit in case the declaration lies.
        if text > max_expanded():
            raise ImportError_(_too_expanded(max_expanded()))
        if files > quota:
            raise ImportError_(f"The archive's files come to more than your attachment quota ({mebibytes(quota)}).")
        if INDEX_NAME in archive.namelist():
            return _NotesExport(archive)
        source = foreign_zip(archive, _EntryReader())
    except BaseException:
        archive.close()
        raise
    archive.close()
    if source is None:
        raise ImportError_(NOT_KNOWN)
    return _within_limit(source)


@dataclass(frozen=True)
class _NotesExport:
    """An upload that is a Notes export, its archive open."""

    archive: zipfile.ZipFile


def _file_entries(record: Any, n: int, archive: zipfile.ZipFile) -> list[dict[str, Any]]:
    """The attachments of note ``n`` (a record of notes.json), each naming a path in
    ``archive``; ImportError_ otherwise."""
    files = record.get("attachments") if isinstance(record, dict) else None
    if files is None:
        return []
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        raise ImportError_(f"Note {n}: attachments must be a list of objects.")
    for f, file in enumerate(files, start=1):
        path = file.get("path")
        if not isinstance(path, str) or not _holds(archive, path):
            raise ImportError_(f"Note {n}, file {f}: its path is not in the archive.")
    return files


def _holds(archive: zipfile.ZipFile, path: str) -> bool:
    # Rather than a set of its names: a 100k-note export has 200k of them.
    try:
        archive.getinfo(path)
    except KeyError:
        return False
    return True


def _within_limit(source: Source) -> Source:
    if len(source.records) > max_notes():
        raise ImportError_(f"An import can hold at most {max_notes()} notes.")
    return source


def _plan_export(user: Owner, export: _NotesExport) -> _Plan:
    """Check every note of a Notes export as it comes from notes.json, keeping of each only
    what writing it needs (its tags' names, its files); the plan reads notes.json again to
    write the notes, a batch at a time. ImportError_ for anything import_zip refuses."""
    archive = export.archive
    read = _EntryReader(int(current_app.config["ATTACHMENT_QUOTA_BYTES"]))
    spellings: dict[str, str] = {}
    # Of each file only its facts: its bytes are read again when it is stored.
    found: list[tuple[int, str, str, str, int, datetime, str]] = []
    index = _Index(archive)
    count = 0
    for passes in range(2):
        for n, record in index.records():
            if n > max_notes():
                raise ImportError_(f"An import can hold at most {max_notes()} notes.")
            entries = _file_entries(record, n, archive)
            for file in entries:
                file["data"] = read(archive, archive.getinfo(file["path"]))
            _build(user, record, n, excerpt=False)
            for name in record["tags"]:
                spellings.setdefault(tag_key(name), name)
            for f, file in enumerate(entries, start=1):
                old, filename, cleaned, created = _checked_file(f"Note {n}, file {f}", file, n)
                facts = (cleaned.content_type, len(cleaned.data), created, file["path"])
                found.append((n - 1, old, filename, *facts))
            count = n
        # notes.json said it was an export only after its notes: read them again, now knowing.
        if not index.deferred or passes:
            break
        index = _Index(archive, known=True)
    taken = taken_keys(old for _, old, *_ in found)
    files: list[_File] = []
    renamed: dict[int, list[tuple[str, str]]] = {}
    for note, old, filename, content_type, size, created, path in found:
        key = old if is_key(old) and old not in taken else new_key()
        taken.add(key)
        if key != old:
            renamed.setdefault(note, []).append((old, key))
        files.append(_File(note, key, filename[:255], content_type, size, created, path=path))
    del found

    def batches() -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
        rows: list[dict[str, Any]] = []
        records: list[dict[str, Any]] = []
        for n, record in _Index(archive, known=True).records():
            row = _build(user, record, n)
            for old, key in renamed.get(n - 1, ()):
                _relinked(row, record, old, key)
            rows.append(row)
            records.append(record)
            if len(rows) == IMPORT_BATCH:
                yield rows, records
                rows, records = [], []
        if rows:
            yield rows, records

    reread = _EntryReader(int(current_app.config["ATTACHMENT_QUOTA_BYTES"]))
    return _Plan(
        count=count,
        source="a Notes export",
        skipped=[],
        tag_names=list(spellings.values()),
        files=files,
        batches=batches,
        file_bytes=lambda file: clean_upload(reread(archive, archive.getinfo(cast(str, file.path)))).data,
    )


class _Index:
    """notes.json of a Notes export, read as a stream: ``records`` gives its notes one at a
    time, numbered from 1, and raises ImportError_ (after the last, when it only knows then)
    when the file is not JSON, or not a Notes export. Until the file has said that it is an
    export, the notes are skipped (``deferred``) unless the caller already ``known`` it."""

    def __init__(self, archive: zipfile.ZipFile, *, known: bool = False) -> None:
        self.archive = archive
        self.known = known
        self.deferred = False

    def records(self) -> Iterator[tuple[int, Any]]:
        with _index_text(self.archive) as read:
            try:
                yield from self._walk(JSONStream(read))
            except UnusableJSON as exc:
                raise ImportError_(f"{INDEX_NAME} cannot be imported: {exc.reason}") from exc
            except json.JSONDecodeError as exc:
                raise ImportError_(f"{INDEX_NAME} is not valid JSON (line {exc.lineno}).") from exc

    def _walk(self, stream: JSONStream) -> Iterator[tuple[int, Any]]:
        head: dict[str, Any] = {}
        listed = False
        if stream.peek() != "{":
            stream.value()
            stream.end()
            raise ImportError_(_NOT_AN_EXPORT)
        stream.expect("{", "'{'")
        ended = stream.peek() == "}"
        if ended:
            stream.expect("}", "'}'")
        while not ended:
            if stream.peek() != '"':
                raise stream.error("Expecting property name enclosed in double quotes")
            key = stream.value()
            stream.expect(":", "':' delimiter")
            if key != "notes":
                head[key] = stream.value()
            elif "notes" in head:
                # json.loads would keep the last; the first was read and let go by then.
                raise ImportError_(f"{INDEX_NAME} has more than one list of notes.")
            else:
                head["notes"] = listed = stream.peek() == "["
                if listed:
                    yield from self._notes(stream, head)
                else:
                    stream.value()
            ended = stream.expect(",}", "',' delimiter") == "}"
        stream.end()
        if not _is_export(head):
            raise ImportError_(_NOT_AN_EXPORT)
        if not listed:
            raise ImportError_(f"{INDEX_NAME} has no list of notes.")

    def _notes(self, stream: JSONStream, head: dict[str, Any]) -> Iterator[tuple[int, Any]]:
        stream.expect("[", "'['")
        n = 0
        ended = stream.peek() == "]"
        if ended:
            stream.expect("]", "']'")
        while not ended:
            record = stream.value()
            n += 1
            if self.known or _is_export(head):
                yield n, record
            else:
                self.deferred = True
            ended = stream.expect(",]", "',' delimiter") == "]"


_NOT_AN_EXPORT = f"{INDEX_NAME} is not a Notes export (format {FORMAT} version {FORMAT_VERSION})."


def _is_export(head: dict[str, Any]) -> bool:
    return head.get("format") == FORMAT and head.get("version") == FORMAT_VERSION


@contextlib.contextmanager
def _index_text(archive: zipfile.ZipFile) -> Iterator[Callable[[int], str]]:
    """How to read notes.json's text, about ``n`` characters at a time ("" at its end), within
    max_expanded() bytes; ImportError_ for an entry it cannot read, a damaged one, one that
    expands past the limit, or one that is not UTF-8."""
    limit = max_expanded()
    entry = archive.getinfo(INDEX_NAME)
    decoder = codecs.getincrementaldecoder("utf-8")()
    total = 0
    with _reading(entry):
        fh = archive.open(entry)

    def read(n: int) -> str:
        nonlocal total
        while True:
            with _reading(entry):
                raw = fh.read(n)
            total += len(raw)
            if total > limit:
                raise ImportError_(_too_expanded(limit))
            try:
                text = decoder.decode(raw, final=not raw)
            except UnicodeDecodeError as exc:
                raise ImportError_(f"{INDEX_NAME} is not UTF-8 text.") from exc
            if text or not raw:
                return text

    with fh:
        yield read


def _check_name(name: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", name) or "\x00" in name:
        raise ImportError_(f"Unsafe path in the archive: {name!r}. Nothing was imported.")


def _parse_time(value: Any, field: str, n: int, *, optional: bool = False) -> datetime:
    if value is None and optional:
        return None  # type: ignore[return-value]
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ImportError_(f"Note {n}: {field} is not an ISO 8601 timestamp.") from exc
    if moment.tzinfo is None:
        raise ImportError_(f"Note {n}: {field} has no time zone.")
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:  # the ends of datetime's range (year 1 at +14:00)
        raise ImportError_(f"Note {n}: {field} is out of range.") from exc


def _build(user: Owner, record: Any, n: int, *, excerpt: bool = True) -> dict[str, Any]:
    """The row of note ``n`` of an import, checked against every rule; ImportError_ otherwise.
    Without its excerpt unless ``excerpt``: a check that writes nothing need not render it.

    Cleans ``record["tags"]`` in place.
    """
    if not isinstance(record, dict):
        raise ImportError_(f"Note {n} is not an object.")
    title, content = record.get("title"), record.get("content")
    if not isinstance(title, str):
        raise ImportError_(f"Note {n}: the title must be text.")
    if not isinstance(content, str):
        raise ImportError_(f"Note {n}: the content must be text.")
    for field, problem in (("title", title_problem(title)), ("content", content_problem(content))):
        if problem:
            raise ImportError_(f"Note {n}: the {field} cannot be imported. {problem}")
    for flag in ("pinned", "archived"):
        if not isinstance(record.get(flag), bool):
            raise ImportError_(f"Note {n}: {flag} must be true or false.")
    tags = record.get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ImportError_(f"Note {n}: tags must be a list of names.")
    try:
        record["tags"] = clean_tag_list(tags)
    except TagError as exc:
        raise ImportError_(f"Note {n}: {exc}") from exc
    record["revisions"] = _revisions(record.get("revisions"), n)
    return {
        "owner_id": user.id,
        "title": title,
        "content": content,
        **(excerpt_columns(content) if excerpt else {}),  # a bulk insert passes Note's validator by
        "pinned": record["pinned"],
        "archived": record["archived"],
        "created_at": _parse_time(record.get("created_at"), "created_at", n),
        "updated_at": _parse_time(record.get("updated_at"), "updated_at", n),
        "deleted_at": _parse_time(record.get("deleted_at"), "deleted_at", n, optional=True),
        # After its history: the versions its revisions were come before it.
        "version": max((r["note_version"] for r in record["revisions"]), default=0) + 1,
    }


def _revisions(value: Any, n: int) -> list[dict[str, Any]]:
    """The checked revision rows of note ``n`` (none when the export has no history); ImportError_ otherwise."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImportError_(f"Note {n}: revisions must be a list.")
    rows = []
    for r, revision in enumerate(value, start=1):
        where = f"Note {n}, revision {r}"
        if not isinstance(revision, dict):
            raise ImportError_(f"{where} is not an object.")
        title, content, tags = revision.get("title"), revision.get("content"), revision.get("tags")
        if not isinstance(title, str) or not isinstance(content, str):
            raise ImportError_(f"{where}: the title and content must be text.")
        for field, problem in (("title", title_problem(title)), ("content", content_problem(content))):
            if problem:
                raise ImportError_(f"{where}: the {field} cannot be imported. {problem}")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ImportError_(f"{where}: tags must be a list of names.")
        try:
            names = clean_tag_list(tags)
        except TagError as exc:
            raise ImportError_(f"{where}: {exc}") from exc
        version = revision.get("note_version")
        if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version < 2**31:
            raise ImportError_(f"{where}: note_version must be a whole number from 1.")
        rows.append(
            {
                "note_version": version,
                "saved_at": _parse_time(revision.get("saved_at"), "saved_at", n),
                "title": title,
                "content": content,
                "tags": ",".join(names),
                "created_at": _parse_time(revision.get("created_at"), "created_at", n),
                "last_save_at": _parse_time(revision.get("last_save_at"), "last_save_at", n),
            }
        )
    return rows
