"""Full-text search over a user's notes, on Postgres or SQLite.

One function, ``search_notes``, with two backends:
- Postgres: a generated ``tsvector`` column with a GIN index, queried with
  ``websearch_to_tsquery`` (quotes, OR, -exclusion) and ranked by ``ts_rank``;
- SQLite (the embedded default): an FTS5 table kept in step by triggers,
  ranked by ``bm25``.
Both stem English words, match the last word as a prefix (search as you
type), and fall back to a plain substring match when the full-text index
finds nothing (CJK text, or a fragment inside a word). See docs/search.md.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.sql.elements import ColumnElement

from ..extensions import db
from .models import Note
from .rules import MAX_QUERY_LENGTH

# Where a search's statements run: the app's scoped session, or a plain one.
AnySession = Session | scoped_session[Any]

# Postgres ranks at most this many matches: the newest (pinned first). See _postgres_statement.
RANK_CANDIDATES = 200

SQLITE_DDL = [
    "CREATE VIRTUAL TABLE notes_fts USING fts5(title, content, content='notes', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER notes_fts_ai AFTER INSERT ON notes BEGIN "
    "INSERT INTO notes_fts(rowid, title, content) VALUES (new.id, new.title, new.content); END",
    "CREATE TRIGGER notes_fts_ad AFTER DELETE ON notes BEGIN "
    "INSERT INTO notes_fts(notes_fts, rowid, title, content) VALUES ('delete', old.id, old.title, old.content); END",
    "CREATE TRIGGER notes_fts_au AFTER UPDATE OF title, content ON notes BEGIN "
    "INSERT INTO notes_fts(notes_fts, rowid, title, content) VALUES ('delete', old.id, old.title, old.content); "
    "INSERT INTO notes_fts(rowid, title, content) VALUES (new.id, new.title, new.content); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS notes_fts_au",
    "DROP TRIGGER IF EXISTS notes_fts_ad",
    "DROP TRIGGER IF EXISTS notes_fts_ai",
    "DROP TABLE IF EXISTS notes_fts",
]
POSTGRES_DDL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE notes ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(content, '')), 'B')) STORED",
    "CREATE INDEX ix_notes_search ON notes USING gin (search_vector)",
    "CREATE INDEX ix_notes_title_trgm ON notes USING gin (title gin_trgm_ops)",
    "CREATE INDEX ix_notes_content_trgm ON notes USING gin (content gin_trgm_ops)",
]


# The objects above that are not models, by name, for Alembic to leave alone.
_OBJECT_NAMES = frozenset({"search_vector", "ix_notes_search", "ix_notes_title_trgm", "ix_notes_content_trgm"})


def is_search_object(name: str) -> bool:
    """True for the FTS5 tables and triggers, and the tsvector column and its indexes."""
    return name.startswith("notes_fts") or name in _OBJECT_NAMES


def _create_search_objects(target: sa.Table, connection: sa.Connection, **kw: object) -> None:
    # For db.create_all() (tests, a fresh dev database); migration 0003 holds
    # the same statements for databases built by `flask db upgrade`.
    statements = {"sqlite": SQLITE_DDL, "postgresql": POSTGRES_DDL}.get(connection.dialect.name, [])
    for statement in statements:
        connection.exec_driver_sql(statement)


def _drop_search_objects(target: sa.Table, connection: sa.Connection, **kw: object) -> None:
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            connection.exec_driver_sql(statement)


def init_app() -> None:
    """Make ``db.create_all()`` and ``drop_all()`` build and remove the search objects with the notes table.

    The table is one per process, so registering again changes nothing.
    """
    table = Note.__table__
    for event, listener in (("after_create", _create_search_objects), ("before_drop", _drop_search_objects)):
        if not sa.event.contains(table, event, listener):
            sa.event.listen(table, event, listener)


@dataclass(frozen=True)
class Term:
    text: str
    phrase: bool = False
    negated: bool = False
    prefix: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    """A web-search style query: words, "quoted phrases", OR, -exclusions."""

    groups: list[list[Term]]  # OR of ANDs
    excluded: list[Term]

    @property
    def empty(self) -> bool:
        return not any(self.groups)


_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def parse_query(query: str) -> ParsedQuery:
    """Parse ``query`` the way websearch_to_tsquery reads it.

    The last bare word is a prefix unless the query ends with a space, so
    results follow the user while they type.
    """
    query = query[:MAX_QUERY_LENGTH]
    groups: list[list[Term]] = [[]]
    excluded: list[Term] = []
    tokens = list(_TOKEN.finditer(query))
    for index, match in enumerate(tokens):
        neg, phrase, word = match.group(1), match.group(2), match.group(3)
        if word is not None:
            if word.upper() == "OR" and groups[-1]:
                groups.append([])
                continue
            negated = word.startswith("-") and len(word) > 1
            text = _clean(word[1:] if negated else word)
            if not text:
                continue
            last = index == len(tokens) - 1 and not query.endswith((" ", "\t"))
            term = Term(text, negated=negated, prefix=last and not negated)
        else:
            text = " ".join(_clean(part) for part in phrase.split() if _clean(part))
            if not text:
                continue
            term = Term(text, phrase=True, negated=bool(neg))
        (excluded if term.negated else groups[-1]).append(term)
    return ParsedQuery([g for g in groups if g], excluded)


def _clean(word: str) -> str:
    # Letters, digits and joiners only: punctuation has no meaning to either
    # index, and quotes or operators must never reach a MATCH expression.
    return "".join(ch for ch in word if ch.isalnum() or ch in "_'-").strip("-'")


@dataclass(frozen=True)
class SearchHit:
    note: Note
    snippet: Markup


@dataclass(frozen=True)
class Markers:
    """Where the database marks a match in a snippet, replaced by <mark> only after the snippet is escaped.

    New random ones for every search: a note may hold any text, private-use
    characters included, so fixed markers could be forged by a note's own
    content and turn into highlights that match nothing.
    """

    start: str
    stop: str

    @classmethod
    def new(cls) -> Markers:
        token = secrets.token_hex(8)
        return cls(f"\ue000{token}\ue001", f"\ue001{token}\ue000")


def highlight(text: str, markers: Markers) -> Markup:
    """Escape ``text`` and turn ``markers`` into <mark> elements."""
    escaped = str(escape(text))
    marked = escaped.replace(markers.start, "<mark>").replace(markers.stop, "</mark>")
    return Markup(marked)  # noqa: S704  # nosec B704  # escaped just above


def search_notes(
    filters: list[ColumnElement[bool]],
    query: str,
    *,
    limit: int = 20,
    session: AnySession | None = None,
) -> list[SearchHit]:
    """The best ``limit`` notes matching ``query`` among those ``filters`` select.

    ``filters`` come from app.notes.service.note_filters (owner, archive, trash,
    tags), so search can never reach another user's notes. An empty query
    finds nothing. The statements run in ``session``, the app's own unless
    given: bench/ceiling_app.py's data floor passes a plain one, so that it
    runs exactly these statements.
    """
    parsed = parse_query(query)
    if parsed.empty:
        return []
    run: AnySession = db.session if session is None else session
    dialect = db.engine.dialect.name if session is None else session.get_bind().dialect.name
    markers = Markers.new()
    statement = ranked_statement(dialect, filters, parsed, limit, markers)
    if dialect == "postgresql":
        hits = [
            SearchHit(note, highlight(head if markers.start in (head or "") else note.content[:160], markers))
            for note, head in run.execute(statement)
        ]
    else:
        hits = [SearchHit(note, highlight(snip or note.title, markers)) for note, snip in run.execute(statement)]
    return hits or _search_substring(run, filters, query.strip(), limit, markers)


def ranked_statement(
    dialect: str, filters: list[ColumnElement[bool]], parsed: ParsedQuery, limit: int, markers: Markers
) -> sa.Select[Note, Any]:
    """The full-text search of ``parsed``: rows of (Note, snippet marked with ``markers``), best first.

    Builds only, never runs: a query that ``parse_query`` found empty has no statement (search_notes returns []).
    """
    if dialect == "postgresql":
        return _postgres_statement(filters, parsed, limit, markers)
    return _sqlite_statement(filters, parsed, limit, markers)


def _fts5_expression(parsed: ParsedQuery) -> str:
    def quoted(term: Term) -> str:
        return '"' + term.text.replace('"', '""') + '"' + ("*" if term.prefix else "")

    groups = ["(" + " AND ".join(quoted(t) for t in group) + ")" for group in parsed.groups]
    expression = " OR ".join(groups)
    for term in parsed.excluded:
        expression = f"({expression}) NOT {quoted(term)}"
    return expression


def _sqlite_statement(
    filters: list[ColumnElement[bool]], parsed: ParsedQuery, limit: int, markers: Markers
) -> sa.Select[Note, Any]:
    fts = sa.table("notes_fts", sa.column("rowid"), sa.column("notes_fts"))
    rank = sa.func.bm25(sa.literal_column("notes_fts"), 10.0, 1.0)
    snippet = sa.func.snippet(sa.literal_column("notes_fts"), -1, markers.start, markers.stop, "…", 16)
    return (
        sa.select(Note, snippet)
        .join(fts, fts.c.rowid == Note.id)
        .where(sa.literal_column("notes_fts").op("MATCH")(_fts5_expression(parsed)), *filters)
        .order_by(rank, Note.updated_at.desc())
        .limit(limit)
    )


def _tsquery(parsed: ParsedQuery) -> ColumnElement[object]:
    """websearch_to_tsquery for the words as typed, AND a prefix match for the last one."""
    text = " OR ".join(
        " ".join(f'"{t.text}"' if t.phrase else t.text for t in group if not t.prefix) for group in parsed.groups
    )
    text += "".join(f' -"{t.text}"' if t.phrase else f" -{t.text}" for t in parsed.excluded)
    query: ColumnElement[object] = sa.func.websearch_to_tsquery("english", text)
    prefix = next((t for g in parsed.groups for t in g if t.prefix), None)
    word = re.sub(r"[^\w]", "", prefix.text) if prefix is not None else ""
    if not word:
        return query
    typed = sa.func.to_tsquery("english", word + ":*")
    # A single word is only its prefix: websearch_to_tsquery('') would match
    # the same, with a "no lexemes" notice for every row it is tested on.
    return typed if not text.strip() else query.op("&&")(typed)


def _postgres_statement(
    filters: list[ColumnElement[bool]], parsed: ParsedQuery, limit: int, markers: Markers
) -> sa.Select[Note, Any]:
    vector: sa.ColumnElement[object] = sa.literal_column("notes.search_vector")
    query = _tsquery(parsed)
    # Ranking reads every match's tsvector: tens of milliseconds for a word
    # in thousands of notes. So only the RANK_CANDIDATES newest matches (in
    # list order, which ix_notes_owner_list serves) are ranked; a rarer
    # word's matches are all ranked, through the GIN index (docs/performance.md, "What was tuned").
    candidates = (
        sa.select(Note.id.label("id"), Note.updated_at.label("updated_at"), vector.label("vector"))
        .where(vector.op("@@")(query), *filters)
        .order_by(Note.pinned.desc(), Note.updated_at.desc(), Note.id.desc())
        .limit(max(RANK_CANDIDATES, limit))
        .subquery()
    )
    rank = sa.func.ts_rank(candidates.c.vector, query)
    best = (
        sa.select(candidates.c.id.label("id"), rank.label("rank"), candidates.c.updated_at.label("updated_at"))
        .order_by(rank.desc(), candidates.c.updated_at.desc())
        .limit(limit)
        .subquery()
    )
    options = (
        f"StartSel={markers.start}, StopSel={markers.stop}, "
        'MaxFragments=2, MaxWords=18, MinWords=6, FragmentDelimiter=" … "'
    )
    headline = sa.func.ts_headline("english", Note.content, query, options)
    # ts_headline is costly, so it runs for the page of results only.
    return (
        sa.select(Note, headline)
        .join(best, best.c.id == Note.id)
        .order_by(best.c.rank.desc(), best.c.updated_at.desc())
    )


def _search_substring(
    session: AnySession,
    filters: list[ColumnElement[bool]],
    text: str,
    limit: int,
    markers: Markers,
) -> list[SearchHit]:
    """Plain case-insensitive substring match, for what the word index misses."""
    text = text.strip('"').strip()
    if not text:
        return []
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    match = sa.or_(Note.title.ilike(pattern, escape="\\"), Note.content.ilike(pattern, escape="\\"))
    stmt = sa.select(Note).where(match, *filters).order_by(Note.updated_at.desc()).limit(limit)
    return [SearchHit(note, _substring_snippet(note, text, markers)) for note in session.scalars(stmt)]


def _substring_snippet(note: Note, text: str, markers: Markers, width: int = 60) -> Markup:
    body = note.content if text.lower() in note.content.lower() else note.title
    at = body.lower().find(text.lower())
    if at < 0:
        return highlight(body[: width * 2], markers)
    start, end = max(0, at - width), min(len(body), at + len(text) + width)
    piece = body[start:at] + markers.start + body[at : at + len(text)] + markers.stop + body[at + len(text) : end]
    return highlight(("…" if start else "") + piece + ("…" if end < len(body) else ""), markers)
