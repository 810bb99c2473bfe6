"""Search behaviour that must hold on both backends.

Imported by tests/integration/notes/test_search.py (SQLite FTS5) and
tests/e2e/test_search.py (Postgres tsvector): one set of cases, two engines.
"""

from __future__ import annotations

from html.parser import HTMLParser

from app.models import db, utcnow
from app.notes.service import purge_note, search, update_note
from app.notes.tags import assign_tags


def titles(hits) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.note.title for hit in hits]


def elements(html: str) -> set[str]:
    """The names of the HTML elements in ``html``."""
    found: set[str] = set()

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
            found.add(tag)

    Collector().feed(html)
    return found


def test_finds_a_word_in_the_body(factory, user):
    factory.note(user, title="Groceries", content="Buy oat milk and bread")
    factory.note(user, title="Work", content="Quarterly report")
    assert titles(search(user, "bread ")) == ["Groceries"]


def test_a_title_match_ranks_above_a_body_match(factory, user):
    factory.note(user, title="Misc", content="notes about the garden and more")
    factory.note(user, title="Garden plans", content="tomatoes")
    assert titles(search(user, "garden "))[0] == "Garden plans"


def test_stemming_finds_other_forms_of_a_word(factory, user):
    factory.note(user, title="Training", content="She runs every morning")
    assert titles(search(user, "running ")) == ["Training"]


def test_the_last_word_matches_as_a_prefix_while_typing(factory, user):
    factory.note(user, title="Formats", content="Markdown renders nicely")
    assert titles(search(user, "markd")) == ["Formats"]
    assert titles(search(user, "render")) == ["Formats"]


def test_quoted_phrases_match_words_in_order(factory, user):
    factory.note(user, title="A", content="the quick brown fox")
    factory.note(user, title="B", content="brown and quick")
    assert titles(search(user, '"quick brown"')) == ["A"]


def test_or_finds_either(factory, user):
    factory.note(user, title="Cats", content="a cat")
    factory.note(user, title="Dogs", content="a dog")
    factory.note(user, title="Fish", content="a fish")
    assert sorted(titles(search(user, "cat OR dog "))) == ["Cats", "Dogs"]


def test_minus_excludes_a_word(factory, user):
    factory.note(user, title="Apple pie", content="apple and cinnamon")
    factory.note(user, title="Apple tart", content="apple and pear")
    assert titles(search(user, "apple -pear")) == ["Apple pie"]


def test_accented_text_is_found(factory, user):
    factory.note(user, title="Paris", content="Un café crème à la gare")
    assert titles(search(user, "café ")) == ["Paris"]


def test_cjk_text_is_found_by_substring(factory, user):
    factory.note(user, title="日记", content="今天天气很好，我们去公园散步。")
    assert titles(search(user, "公园")) == ["日记"]


def test_a_fragment_inside_a_word_falls_back_to_substring(factory, user):
    factory.note(user, title="Ids", content="order number XK-99812 shipped")
    assert titles(search(user, "9981")) == ["Ids"]


def test_only_the_users_own_notes(factory, user):
    other = factory.user("mallory@example.com")
    factory.note(other, title="Mallory's secret", content="treasure map")
    factory.note(user, title="Mine", content="no match here")
    assert search(user, "treasure ") == []
    assert search(user, "treasure") == []  # the substring fallback too


def test_trash_and_archive_are_left_out_unless_asked(factory, user):
    factory.note(user, title="Live", content="zebra")
    factory.note(user, title="Archived", content="zebra", archived=True)
    factory.note(user, title="Trashed", content="zebra", deleted_at=utcnow())
    assert titles(search(user, "zebra ")) == ["Live"]
    assert titles(search(user, "zebra ", archived=True)) == ["Archived"]
    assert titles(search(user, "zebra ", archived=None, trashed=True)) == ["Trashed"]


def test_combines_with_tag_filters(factory, user):
    tagged = factory.note(user, title="Tagged", content="kiwi")
    factory.note(user, title="Untagged", content="kiwi")
    assign_tags(tagged, ["fruit"])
    db.session.commit()
    assert titles(search(user, "kiwi ", tags=["Fruit"])) == ["Tagged"]


def test_snippets_highlight_matches_and_escape_html(factory, user):
    factory.note(user, title="Unsafe", content='find the <b onclick="x()">needle</b> here')
    (hit,) = search(user, "needle ")
    html = str(hit.snippet)
    assert "<mark>needle</mark>" in html
    # Whatever the backend keeps of the note's own markup, it is text:
    # the only elements in a snippet are the highlights.
    assert elements(html) == {"mark"}


def test_substring_snippets_are_escaped_too(factory, user):
    factory.note(user, title="T", content="<img src=x onerror=alert(1)>公园")
    (hit,) = search(user, "公园")
    html = str(hit.snippet)
    assert "<mark>公园</mark>" in html
    assert elements(html) == {"mark"}


def test_edits_are_reindexed_and_deleted_notes_forgotten(factory, user):
    note = factory.note(user, title="Draft", content="alpha")
    update_note(note, {"content": "omega"})
    assert search(user, "alpha ") == []
    assert titles(search(user, "omega ")) == ["Draft"]
    note.deleted_at = utcnow()
    db.session.commit()
    purge_note(note)
    assert search(user, "omega ", archived=None, trashed=True) == []


def test_query_syntax_never_breaks_the_search(factory, user):
    factory.note(user, title="Plain", content="text")
    for query in [
        '"',
        '""',
        "*",
        "NEAR(a b)",
        "a AND",
        "OR",
        "-",
        "-text",
        "text) OR (1",
        "'; DROP TABLE notes; --",
        "\\",
    ]:
        search(user, query)  # no exception, whatever it finds
    assert titles(search(user, "text ")) == ["Plain"]


def test_an_empty_query_finds_nothing(factory, user):
    factory.note(user, title="Anything", content="at all")
    assert search(user, "") == []
    assert search(user, "   ") == []


def test_results_are_limited(factory, user):
    for n in range(5):
        factory.note(user, title=f"Pear {n}", content="pear")
    assert len(search(user, "pear ", limit=3)) == 3


def test_a_notes_own_private_use_characters_cannot_forge_a_highlight(factory, user):
    factory.note(user, title="Forged", content="the needle and \ue000fake\ue001 marks")
    (hit,) = search(user, "needle ")
    html = str(hit.snippet)
    assert html.count("<mark>") == 1
    assert "<mark>needle</mark>" in html
    assert "\ue000fake\ue001" in html  # shown as the text it is


def test_substring_snippets_cannot_be_forged_either(factory, user):
    factory.note(user, title="T", content="\ue000x\ue001 公园")
    (hit,) = search(user, "公园")
    html = str(hit.snippet)
    assert html.count("<mark>") == 1
    assert "<mark>公园</mark>" in html
