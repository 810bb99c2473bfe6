"""rules.split_quick_note: a quick note's title and content from one text."""

from __future__ import annotations

import pytest

from app.notes.rules import MAX_TITLE_LENGTH, QUICK_NOTE_EMPTY, split_quick_note


@pytest.mark.parametrize(
    ("text", "title", "content"),
    [
        ("Buy milk", "Buy milk", ""),
        ("  Buy milk  \n", "Buy milk", ""),
        ("Groceries\n- milk\n- eggs", "Groceries", "- milk\n- eggs"),
        ("\n\n  Groceries\n\n- milk\n", "Groceries", "- milk"),
        ("# Plan\nStep one", "Plan", "Step one"),
        ("### Plan", "Plan", ""),
        ("#hashtag first", "#hashtag first", ""),
        ("#", "#", ""),
        ("Code\n    indented = 1\n", "Code", "    indented = 1"),
        ("Windows\r\nline two\r\n", "Windows", "line two"),
    ],
)
def test_the_first_line_is_the_title_and_the_rest_the_content(text: str, title: str, content: str) -> None:
    assert split_quick_note(text) == (title, content)


def test_a_first_line_too_long_for_a_title_is_cut_at_a_word_and_kept_whole_in_the_content() -> None:
    text = " ".join(["word"] * 100) + "\nsecond line"
    title, content = split_quick_note(text)
    assert len(title) <= MAX_TITLE_LENGTH
    assert title.endswith("word…")
    assert content == text


def test_a_first_line_without_spaces_is_cut_hard() -> None:
    title, content = split_quick_note("x" * 500)
    assert title == "x" * (MAX_TITLE_LENGTH - 1) + "…"
    assert content == "x" * 500


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_a_blank_text_says_what_to_do(text: str) -> None:
    with pytest.raises(ValueError, match="Write something first"):
        split_quick_note(text)
    assert QUICK_NOTE_EMPTY.startswith("Write something first")
