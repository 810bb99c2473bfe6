"""A readable inline diff of two texts, as HTML that cannot carry markup of its own.

difflib compares lines; every piece of the texts goes through
``Markup.format``, which escapes it, before it meets a tag of ours, so a note holding
``<script>`` shows those characters and runs nothing.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from markupsafe import Markup

CONTEXT_LINES = 3


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "del", "ins" or "gap" (unchanged lines left out)
    text: str


def diff_lines(old: str, new: str, context: int = CONTEXT_LINES) -> list[DiffLine]:
    """The lines of ``old`` and ``new``, each kept, deleted or inserted, with
    ``context`` unchanged lines around each change; empty when they are equal."""
    # str.splitlines: plain strings even from a Markup, which Markup.format would trust.
    a, b = str.splitlines(old), str.splitlines(new)
    out: list[DiffLine] = []
    for n, group in enumerate(difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context)):
        if n or group[0][1] > 0:
            out.append(DiffLine("gap", ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(DiffLine("same", line) for line in a[i1:i2])
                continue
            out.extend(DiffLine("del", line) for line in a[i1:i2])
            out.extend(DiffLine("ins", line) for line in b[j1:j2])
    return out if any(line.kind in ("del", "ins") for line in out) else []


_TAGS = {"same": ("span", "diff-same", " "), "del": ("del", "diff-del", "-"), "ins": ("ins", "diff-ins", "+")}


def diff_html(old: str, new: str, context: int = CONTEXT_LINES) -> Markup:
    """``diff_lines`` as a ``<pre>`` of lines marked with ``<del>`` and ``<ins>``, every text escaped."""
    if old == new:
        return Markup('<p class="muted">No difference.</p>')
    parts = []
    for line in diff_lines(old, new, context):
        if line.kind == "gap":
            parts.append(Markup('<span class="diff-gap">…</span>'))
            continue
        element, cls, sign = _TAGS[line.kind]
        parts.append(Markup('<{0} class="{1}">{2} {3}</{0}>').format(element, cls, sign, line.text))
    if not parts:  # only line endings differ
        return Markup('<p class="muted">Only line endings differ.</p>')
    return Markup('<pre class="diff">') + Markup("\n").join(parts) + Markup("</pre>")
