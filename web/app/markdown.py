"""Markdown to safe HTML: CommonMark by markdown-it-py, sanitized by nh3."""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# html=False: raw HTML in a note is shown as text, never rendered. nh3 then
# removes anything a crafted link or image could still smuggle in.
_md = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable("table")
    .enable("strikethrough")
)

_ALLOWED_TAGS = {
    "a",
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "del",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "img",
    "input",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "code": {"class"},
    "ol": {"start"},
    "input": {"type", "checked", "disabled"},
}


def plain_excerpt(text: str, limit: int = 160) -> str:
    """The first ``limit`` characters of a note's text, without Markdown syntax."""
    # Render, then keep only the text: list markers, emphasis and table
    # pipes disappear instead of showing up raw in the list.
    words = nh3.clean(_md.render((text or "")[: limit * 4]), tags=set()).split()
    plain = html.unescape(" ".join(words))
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


def render_markdown(text: str) -> Markup:
    """Render a note body to HTML that is safe to put in a page."""
    html = _md.render(text or "")
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow noreferrer",
    )
    return Markup(clean)  # noqa: S704  # nosec B704  # sanitized by nh3 just above
