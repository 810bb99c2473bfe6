"""The history's inline diff: what it shows, and that no note text becomes markup."""

from __future__ import annotations

from markupsafe import Markup

from app.notes.diff import diff_html, diff_lines


def test_changed_lines_are_deleted_then_inserted_among_their_context():
    lines = diff_lines("a\nb\nc\n", "a\nB\nc\nd\n")
    assert [(line.kind, line.text) for line in lines] == [
        ("same", "a"),
        ("del", "b"),
        ("ins", "B"),
        ("same", "c"),
        ("ins", "d"),
    ]


def test_far_apart_changes_leave_out_the_lines_between():
    old = "\n".join(f"line {n}" for n in range(20))
    new = old.replace("line 0", "first").replace("line 19", "last")
    kinds = [line.kind for line in diff_lines(old, new, context=1)]
    assert kinds == ["del", "ins", "same", "gap", "same", "del", "ins"]


def test_equal_texts_have_no_diff():
    assert diff_lines("same", "same") == []
    assert "No difference" in diff_html("same", "same")


def test_note_text_is_escaped_and_never_becomes_markup():
    evil = '<script>alert(1)</script>\n<img src=x onerror="x()">\n&amp; </pre><b>'
    for html in (diff_html("", evil), diff_html(evil, ""), diff_html(evil, evil + "\nmore")):
        assert isinstance(html, Markup)
        assert "<script" not in html and "<img" not in html and "<b>" not in html
        assert html.count("</pre>") == 1 and html.endswith("</pre>")
    html = diff_html("", evil)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&amp;amp;" in html
    assert '<ins class="diff-ins">+ &lt;img src=x onerror=&#34;x()&#34;&gt;</ins>' in html


def test_a_text_that_is_already_markup_is_escaped_too():
    # Markup.format trusts a Markup argument; the diff's lines must be plain str.
    html = diff_html("", Markup("<b>bold</b>"))
    assert "<b>" not in html
