"""Markdown to safe HTML: CommonMark by markdown-it-py, sanitized by nh3."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup
from mdit_py_plugins.tasklists import tasklists_plugin

# html=False: raw HTML in a note is shown as text, never rendered. nh3 then
# removes anything a crafted link or image could still smuggle in.
_md = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable("table")
    .enable("strikethrough")
    .use(tasklists_plugin)
)
_TASK_BOX = re.compile(r"\[([ xX])\]")

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
    "input": {"type", "checked", "disabled", "aria-label"},
}


def _label_task_boxes(tokens: list[Token]) -> list[Token]:
    """Name each task box after its item's text (``aria-label``), so that a
    page without scripts (a shared note, the editor's preview) is accessible too."""
    for token in tokens:
        children = token.children or []
        if token.type != "inline" or not children:
            continue
        box = children[0]
        if box.type == "html_inline" and "task-list-item-checkbox" in box.content:
            text = "".join(c.content for c in children[1:] if c.type in ("text", "code_inline")).strip()
            label = html.escape(text or "Task", quote=True)
            box.content = box.content.replace("<input ", f'<input aria-label="{label}" ', 1)
    return tokens


ATTACHMENT_SCHEME = "attachment:"


def _link_attachments(tokens: list[Token], file_url: Callable[[str], str] | None) -> list[Token]:
    """Point ``attachment:KEY`` images and links at ``file_url(KEY)``, the page's way to the file.

    Without ``file_url`` (or for a reference that names no key) they point
    nowhere: the image shows its alt text, the link its words.
    """
    for token in tokens:
        for child in token.children or []:
            attribute = "src" if child.type == "image" else "href" if child.type == "link_open" else None
            if attribute is None:
                continue
            target = str(child.attrGet(attribute) or "")
            if target.startswith(ATTACHMENT_SCHEME):
                key = target[len(ATTACHMENT_SCHEME) :]
                if file_url and key:
                    child.attrSet(attribute, file_url(key))
                else:
                    del child.attrs[attribute]
    return tokens


# What plain_excerpt makes of a text, as stored with each note (Note.excerpt):
# bump it whenever its output changes for the same text (the parser, the
# sanitizer, the limit), and every stored excerpt is stale until the next
# migration or save rewrites it; until then lists compute it as before.
EXCERPT_VERSION = 1
EXCERPT_LIMIT = 160


def plain_excerpt(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """The first ``limit`` characters of a note's text, without Markdown syntax."""
    # Render, then keep only the text: list markers, emphasis and table
    # pipes disappear instead of showing up raw in the list.
    words = nh3.clean(_md.render((text or "")[: limit * 4]), tags=set()).split()
    plain = html.unescape(" ".join(words))
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


def render_markdown(text: str, file_url: Callable[[str], str] | None = None) -> Markup:
    """Render a note body to HTML that is safe to put in a page.

    ``file_url(key)`` is where the page finds the note's file ``key``
    (``![photo](attachment:KEY)``); the caller has checked who may see them.
    """
    env: dict[str, object] = {}
    tokens = _link_attachments(_label_task_boxes(_md.parse(text or "", env)), file_url)
    clean = nh3.clean(
        _md.renderer.render(tokens, _md.options, env),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow noreferrer",
    )
    return Markup(clean)  # noqa: S704  # nosec B704  # sanitized by nh3 just above


def task_lines(text: str) -> list[int]:
    """The source line of each task-list item (``- [ ]`` / ``- [x]``), in order.

    Taken from the parser, not a regex over the text, so a "- [ ]" inside a
    code block is not counted: the n-th checkbox on the page is the n-th here.
    """
    lines = []
    for token in _md.parse(text or ""):
        if token.type == "list_item_open" and "task-list-item" in str(token.attrGet("class") or "") and token.map:
            lines.append(token.map[0])
    return lines


def toggle_task(text: str, index: int) -> str:
    """``text`` with the ``index``-th task box flipped; IndexError if there is none."""
    lines = task_lines(text)
    if not 0 <= index < len(lines):
        raise IndexError(index)
    source = text.split("\n")
    line = source[lines[index]]
    match = _TASK_BOX.search(line)
    if match is None:  # pragma: no cover - the parser found a box on this line
        raise IndexError(index)
    flipped = " " if match.group(1) in "xX" else "x"
    source[lines[index]] = line[: match.start(1)] + flipped + line[match.end(1) :]
    return "\n".join(source)
