"""Postgres ranks at most RANK_CANDIDATES matches: the newest ones (pinned first).

Ranking a word found in thousands of notes would read every match's
tsvector (60 ms at 100,000 notes, docs/performance.md); these tests pin down
what the bound means for results.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.models import Note, db, utcnow
from app.notes.search import RANK_CANDIDATES
from app.notes.service import search

pytestmark = pytest.mark.e2e


def _bulk(user, n: int, title: str, content: str, *, age_days: float, **fields) -> None:  # type: ignore[no-untyped-def]
    when = utcnow() - timedelta(days=age_days)
    rows = [
        {"owner_id": user.id, "title": f"{title} {i}", "content": content, "created_at": when,
         "updated_at": when - timedelta(seconds=i), "version": 1, **fields}
        for i in range(n)
    ]  # fmt: skip
    db.session.execute(sa.insert(Note), rows)
    db.session.commit()


def test_a_strong_match_older_than_the_candidates_is_not_ranked(factory, user):
    factory.note(user, title="kiwi kiwi kiwi", content="kiwi kiwi kiwi kiwi")  # strongest, made first...
    db.session.execute(sa.update(Note).values(updated_at=utcnow() - timedelta(days=400)))  # ...and oldest
    db.session.commit()
    _bulk(user, RANK_CANDIDATES, "plain", "one kiwi here", age_days=1)
    hits = search(user, "kiwi ", limit=20)
    assert len(hits) == 20
    assert "kiwi kiwi kiwi" not in [h.note.title for h in hits]


def test_a_strong_match_among_the_candidates_ranks_first(factory, user):
    _bulk(user, RANK_CANDIDATES + 50, "plain", "one kiwi here", age_days=10)
    factory.note(user, title="kiwi kiwi kiwi", content="kiwi kiwi kiwi kiwi")  # newest
    hits = search(user, "kiwi ", limit=20)
    assert hits[0].note.title == "kiwi kiwi kiwi"
    assert len(hits) == 20


def test_a_pinned_strong_match_is_always_a_candidate(factory, user):
    factory.note(user, title="kiwi kiwi kiwi", content="kiwi kiwi kiwi kiwi", pinned=True)
    db.session.execute(sa.update(Note).values(updated_at=utcnow() - timedelta(days=400)))
    db.session.commit()
    _bulk(user, RANK_CANDIDATES + 50, "plain", "one kiwi here", age_days=1)
    assert search(user, "kiwi ", limit=20)[0].note.title == "kiwi kiwi kiwi"


def test_a_rarer_word_ranks_all_its_matches(factory, user):
    factory.note(user, title="mango mango", content="mango mango mango")
    db.session.execute(sa.update(Note).values(updated_at=utcnow() - timedelta(days=400)))
    db.session.commit()
    _bulk(user, 30, "plain", "one mango here", age_days=1)
    _bulk(user, RANK_CANDIDATES, "other", "no fruit", age_days=0.5)
    assert search(user, "mango ", limit=5)[0].note.title == "mango mango"


def test_a_one_word_search_sends_the_database_no_empty_query(factory, user):
    # The word being typed is a prefix and the only term: an empty
    # websearch_to_tsquery beside it made PostgreSQL warn once per row tested.
    _bulk(user, 30, "plain", "one kiwi here", age_days=1)
    notices: list[str] = []
    raw = db.session.connection().connection.dbapi_connection

    def heard(diag) -> None:  # type: ignore[no-untyped-def]
        notices.append(diag.message_primary or "")

    raw.add_notice_handler(heard)
    try:
        hits = search(user, "kiw", limit=20)
    finally:
        raw.remove_notice_handler(heard)
    assert len(hits) == 20
    assert notices == []
