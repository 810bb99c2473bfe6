"""is_safe_next: only same-site paths survive as login redirect targets."""

from __future__ import annotations

import pytest

from app.http.security import is_safe_next


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/notes/",
        "/notes/42",
        "/notes/42/edit?from=list&x=1",
        "/notes/#top",
        "/account/",
        "/https://evil.example",  # a path on this site that merely looks like a URL
        "/%2F%2Fevil.example",  # percent-encoded slashes stay inside the path
    ],
)
def test_same_site_paths_are_safe(target):
    assert is_safe_next(target) is True


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "notes/42",  # relative, no leading slash
        "evil.example",
        " /notes/",
        "http://evil.example/",
        "https://evil.example/notes/",
        "HTTPS://evil.example",
        "//evil.example",
        "///evil.example",
        "//evil.example/notes/",
        "/\\evil.example",
        "\\\\evil.example",
        "\\/evil.example",
        "/notes\\..\\..\\evil",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/\t/evil.example",  # browsers drop tabs and newlines, leaving //evil.example
        "/\n/evil.example",
        "/\r/evil.example",
        "/notes\x00",
        "/notes\x7f",
        "/\x1b[31m",
    ],
)
def test_everything_else_is_unsafe(target):
    assert is_safe_next(target) is False
