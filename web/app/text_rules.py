"""What any text the app stores may hold, for every domain's rules.

PostgreSQL ``text`` cannot hold NUL (U+0000), and "blank" means what
``str.strip()`` removes. Each rule is here once, with its JSON Schema twin so
that the OpenAPI document promises exactly what the API accepts.
"""

from __future__ import annotations

NUL_MESSAGE = "Remove the NUL character from this field."

# The characters str.strip() removes (str.isspace), spelled out as a regex
# class because regex engines disagree on \s.
SPACE_CLASS = r"\t-\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# "Contains no NUL", as `not` a search for one rather than an anchored
# ^[^\u0000]*$: the same rule, but a tool that folds maxLength into the
# pattern (schemathesis does) would turn a long maxLength into a quantifier
# that takes a long time to compile each time (docs/performance.md, "Tier 1-2 test suite").
NUL_PATTERN = r"\u0000"
# Not blank and no NUL: for names and titles.
NOT_BLANK_NO_NUL_PATTERN = rf"^[^\u0000]*[^\u0000{SPACE_CLASS}][^\u0000]*$"


def has_nul(value: str) -> bool:
    return "\x00" in value


def is_blank(value: str) -> bool:
    return not value.strip()
