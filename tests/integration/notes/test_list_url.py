"""list_url, the list pages' links to themselves: the same address url_for builds."""

from __future__ import annotations

import pytest
from flask import Flask, url_for

from app.notes import views
from app.notes.views import list_url

ODD = ["plain", "two words", "ünïcødé", "a&b=c", "50%", "c++", "#hash", "a/b?c", "'quote'", "tab\there", "日本語"]


@pytest.mark.parametrize("endpoint", ["notes.index", "notes.archive", "notes.trash"])
@pytest.mark.parametrize("prefix", ["", "/apps/notes"])
def test_every_combination_gives_url_fors_address(app: Flask, endpoint: str, prefix: str) -> None:
    cases: list[tuple[list[str], str | None, str | None]] = [
        ([], None, None),
        ([], "", None),
        (ODD[:1], None, None),
        (ODD, None, None),
        (ODD[2:5], "find me & more", None),
        ([], "ünï 50% #", "eyJrIjoxfQ=="),
        (ODD[:2], None, "abc/def+=="),
    ]
    with app.test_request_context(environ_overrides={"SCRIPT_NAME": prefix}):
        assert url_for(endpoint).startswith(f"{prefix}/notes/")
        for tags, q, cursor in cases:
            expected = url_for(endpoint, tag=tags, q=q or None, cursor=cursor)
            # url_for puts the query's values in the order given; the pager's put the cursor last.
            assert list_url(endpoint, tags, q, cursor) == expected, (tags, q, cursor)


def test_the_address_is_built_once_per_request(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []

    def counted(endpoint: str, **values: object) -> str:
        built.append(endpoint)
        return url_for(endpoint, **values)

    monkeypatch.setattr(views, "url_for", counted)
    with app.test_request_context():
        first = list_url("notes.index")
        assert list_url("notes.index", ["x"]) == first + "?tag=x"
        assert [list_url("notes.index", [t]) for t in "abc"] == [f"{first}?tag={t}" for t in "abc"]
        list_url("notes.trash")
    assert built == ["notes.index", "notes.trash"]
    with app.test_request_context(environ_overrides={"SCRIPT_NAME": "/other"}):
        assert list_url("notes.index") == "/other/notes/"
