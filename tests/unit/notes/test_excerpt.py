"""The plain-text excerpt shown in note lists."""

from app.notes.markdown import plain_excerpt


def test_markdown_syntax_is_removed():
    assert plain_excerpt("# Big idea\n\nSome **bold** and `code`.") == "Big idea Some bold and code."


def test_html_in_a_note_stays_text_for_the_template_to_escape():
    # The template autoescapes the excerpt; it must not come back as markup.
    excerpt = plain_excerpt("<script>alert(1)</script> & more")
    assert excerpt == "<script>alert(1)</script> & more"
    assert type(excerpt) is str


def test_long_text_is_cut_with_an_ellipsis():
    excerpt = plain_excerpt("word " * 100, limit=30)
    assert len(excerpt) <= 30
    assert excerpt.endswith("…")


def test_short_and_empty_text():
    assert plain_excerpt("short") == "short"
    assert plain_excerpt("") == ""
