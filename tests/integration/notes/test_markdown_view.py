"""Viewing a note: Markdown is rendered, anything executable is not."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from app.models import utcnow

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}
ACTIVE_TAGS = {
    "script",
    "iframe",
    "object",
    "embed",
    "frame",
    "frameset",
    "svg",
    "math",
    "style",
    "link",
    "meta",
    "base",
}


class _Tags(HTMLParser):
    """Every start tag in a fragment, as (tag, {attribute: value})."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


def _markdown_tags(response) -> list[tuple[str, dict[str, str]]]:
    """The tags inside the rendered note body only (the page around it has its own)."""
    page = response.get_data(as_text=True)
    start = page.index('<div class="markdown">') + len('<div class="markdown">')
    end = page.index('<div class="actions">', start)
    parser = _Tags()
    parser.feed(page[start:end])
    return parser.tags


def _view(client, factory, owner, content: str, title: str = "A note"):
    note = factory.note(owner, title=title, content=content)
    response = client.get(f"/notes/{note.id}")
    assert response.status_code == 200
    return response


def test_markdown_is_rendered(client, logged_in, factory):
    content = (
        "# Heading\n\nSome *emphasis*, **strong** and ~~struck~~ text.\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode block\n```\n\n> quoted\n"
    )
    response = _view(client, factory, logged_in, content)
    tags = [tag for tag, _ in _markdown_tags(response)]
    for tag in ("h1", "em", "strong", "s", "table", "thead", "td", "pre", "code", "blockquote"):
        assert tag in tags, tag
    assert b"<h1>Heading</h1>" in response.data
    assert b"<td>2</td>" in response.data


def test_links_get_noopener_nofollow_noreferrer(client, logged_in, factory):
    response = _view(client, factory, logged_in, "See [the site](https://example.com/page).")
    [attrs] = [attrs for tag, attrs in _markdown_tags(response) if tag == "a"]
    assert attrs["href"] == "https://example.com/page"
    assert set(attrs["rel"].split()) >= {"noopener", "nofollow", "noreferrer"}


XSS_VECTORS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<iframe src="https://evil.example/"></iframe>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    '[click](https://example.com/"onmouseover="alert(1))',
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    "<object data='javascript:alert(1)'></object>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<form action='javascript:alert(1)'><button>go</button></form>",
]


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_nothing_executable_survives(client, logged_in, factory, vector):
    response = _view(client, factory, logged_in, f"before\n\n{vector}\n\nafter")
    for tag, attrs in _markdown_tags(response):
        assert tag not in ACTIVE_TAGS, (tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name != "style", tag
            if name in URL_ATTRIBUTES:
                scheme = value.strip().split(":", 1)[0].lower() if ":" in value else ""
                assert scheme in ("", "http", "https", "mailto"), (tag, name, value)
    # The note's text is still there for its owner to read.
    assert b"before" in response.data and b"after" in response.data


def _only_app_scripts(page: bytes) -> bool:
    """Every <script> on the page is one of the app's own static files (base.html loads them)."""
    tags = re.findall(rb"<script\b[^>]*>", page)
    return bool(tags) and all(
        re.fullmatch(rb'<script src="/static/(vendor/htmx/htmx\.min|js/app)\.js" defer>', t) for t in tags
    )


def test_raw_html_is_shown_as_text(client, logged_in, factory):
    response = _view(client, factory, logged_in, "<script>alert('hi')</script>")
    assert b"&lt;script&gt;" in response.data
    assert _only_app_scripts(response.data)


def test_title_is_escaped(client, logged_in, factory):
    response = _view(client, factory, logged_in, "body", title='<img src=x onerror="alert(1)">')
    assert b"<img src=x" not in response.data
    assert b"&lt;img src=x onerror=" in response.data


def test_list_excerpt_and_title_are_escaped(client, logged_in, factory):
    factory.note(logged_in, title="<b>bold</b>", content="<script>alert(1)</script>")
    page = client.get("/notes/")
    assert _only_app_scripts(page.data) and b"<b>bold" not in page.data
    assert b"&lt;b&gt;bold&lt;/b&gt;" in page.data


def test_trashed_and_archived_notes_say_so(client, logged_in, factory):
    archived = factory.note(logged_in, archived=True)
    trashed = factory.note(logged_in, deleted_at=utcnow())
    assert b"This note is archived." in client.get(f"/notes/{archived.id}").data
    page = client.get(f"/notes/{trashed.id}")
    assert b"This note is in the trash." in page.data
    assert f'action="/notes/{trashed.id}/restore"'.encode() in page.data
    assert f"/notes/{trashed.id}/edit".encode() not in page.data
