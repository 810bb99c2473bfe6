"""render_markdown: CommonMark with tables and strikethrough, and output that
is safe to put in a page whatever the note contains."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from markupsafe import Markup

from app.notes.markdown import render_markdown

ALLOWED_TAGS = {
    *("a", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre"),
    *("blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "img", "input"),
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster"}
SAFE_SCHEMES = ("http:", "https:", "mailto:")


class TagCollector(HTMLParser):
    """Every start tag with its attributes, entities already decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = TagCollector()
    parser.feed(html)
    parser.close()
    return parser.tags


def assert_safe(html: str) -> None:
    """No script, no event handler, no URL a browser would run as code."""
    lowered = html.lower()
    for tag in ("<script", "<style", "<iframe", "<svg", "<object", "<embed", "<form", "<math", "<base", "<meta"):
        assert tag not in lowered
    for tag, attrs in tags_of(html):
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name != "style", tag
            if name in URL_ATTRIBUTES and value is not None:
                # Browsers ignore whitespace and control characters in a scheme.
                squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
                if ":" in squeezed.split("/", 1)[0]:
                    assert squeezed.startswith(SAFE_SCHEMES), (tag, name, value)
                assert "javascript:" not in squeezed


def test_returns_markup():
    assert isinstance(render_markdown("hi"), Markup)
    assert render_markdown("") == ""
    assert render_markdown(None) == ""  # type: ignore[arg-type]


def test_headings_and_emphasis():
    html = render_markdown("# Title\n\n## Sub\n\n**bold** and *it*")
    assert "<h1>Title</h1>" in html
    assert "<h2>Sub</h2>" in html
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html


def test_tables():
    html = render_markdown("| a | b |\n|---|:-:|\n| 1 | 2 |")
    assert "<table>" in html
    assert "<th>a</th>" in html
    assert "<td>1</td>" in html
    assert "style=" not in html  # markdown-it's inline alignment style is stripped with every other style


def test_strikethrough():
    assert "<s>gone</s>" in render_markdown("~~gone~~")


def test_fenced_code_keeps_language_class_and_escapes_content():
    html = render_markdown("```python\nif a < b:\n    print('<b>')\n```")
    assert '<pre><code class="language-python">' in html
    assert "a &lt; b" in html
    assert "&lt;b&gt;" in html


def test_lists_blockquotes_and_inline_code():
    html = render_markdown("> quoted\n\n1. one\n2. two\n\n- x\n\n`a<b`")
    assert "<blockquote>" in html
    assert "<ol>" in html and "<ul>" in html
    assert "<code>a&lt;b</code>" in html


def test_links_get_rel_noopener_nofollow():
    html = render_markdown("[site](https://example.org/page)")
    (_tag, attrs) = next(t for t in tags_of(html) if t[0] == "a")
    assert attrs["href"] == "https://example.org/page"
    rel = (attrs.get("rel") or "").split()
    assert "noopener" in rel and "nofollow" in rel


def test_mailto_and_relative_links_are_kept():
    html = render_markdown("[mail](mailto:a@example.org) [rel](/notes/1)")
    hrefs = [attrs.get("href") for tag, attrs in tags_of(html) if tag == "a"]
    assert hrefs == ["mailto:a@example.org", "/notes/1"]


def test_raw_html_is_escaped_not_rendered():
    html = render_markdown('<b>bold?</b> <div class="x">box</div>')
    assert "<b>" not in html and "<div" not in html
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](data:image/png;base64,iVBORw0KGgo=)",
        "![x](javascript:alert(1))",
        "[x](vbscript:msgbox(1))",
    ],
)
def test_dangerous_link_schemes_are_dropped(text):
    html = render_markdown(text)
    assert_safe(html)
    for _tag, attrs in tags_of(html):
        for name in ("href", "src"):
            value = (attrs.get(name) or "").lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:"))


XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)"/>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="javascript:alert(1)"></iframe>',
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1))",
    "[x](java\nscript:alert(1))",
    "[x]( javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "<javascript:alert(1)>",
    "<https://example.org/?q=<script>alert(1)</script>>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    '[x](https://example.org "title" onmouseover="alert(1)")',
    '[x](https://example.org" onmouseover="alert(1))',
    '![x](https://example.org/a.png" onerror="alert(1))',
    '![x" onerror="alert(1)](https://example.org/a.png)',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<a href="https://example.org" onclick="alert(1)">x</a>',
    '<input type="checkbox" onfocus="alert(1)" autofocus>',
    "<details open ontoggle=alert(1)>",
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    '<form action="javascript:alert(1)"><button>x</button></form>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<base href=javascript:alert(1)//>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "`<script>alert(1)</script>`",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "<!--<script>alert(1)</script>-->",
    "<<script>alert(1)//<</script>",
    "<scr<script>ipt>alert(1)</script>",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
]


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_xss_vectors_render_harmless(vector):
    html = render_markdown(vector)
    assert_safe(html)
    assert "<script" not in html.lower()
    for _tag, attrs in tags_of(html):
        assert not any("javascript:" in re.sub(r"\s", "", v or "").lower() for v in attrs.values())


def test_assert_safe_catches_what_it_should():
    # The checker itself must fail on unsafe HTML, or the corpus proves nothing.
    for unsafe in ('<a href="javascript:alert(1)">x</a>', "<img src=x onerror=alert(1)>", "<script>x</script>"):
        with pytest.raises(AssertionError):
            assert_safe(unsafe)
    with pytest.raises(AssertionError):
        assert_safe('<a href=" java\tscript:alert(1)">x</a>')


def test_each_task_box_is_named_after_its_item_even_without_scripts() -> None:
    html = str(render_markdown('- [ ] Buy "milk" <b>\n- [x] `code` done\n\n```\n- [ ] not a task\n```'))
    assert '<input aria-label="Buy &quot;milk&quot; &lt;b&gt;" disabled="disabled" type="checkbox">' in html
    assert '<input aria-label="code done" checked="checked" disabled="disabled" type="checkbox">' in html
    assert html.count("<input") == 2
