"""Client JSON: everything json.loads accepts or chokes on that the app cannot use is UnusableJSON."""

from __future__ import annotations

import json

import pytest

from app.http.jsonbody import UnusableJSON, loads


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"n": ' + "9" * 5000 + "}", "too many digits"),
        ('{"title": "\\ud800"}', "lone UTF-16 surrogate"),
        ('["fine", {"\\udc00": 1}]', "lone UTF-16 surrogate"),  # a key too
        ('"a\\udbffz"', "lone UTF-16 surrogate"),
    ],
)
def test_unusable_json_says_why(text: str, reason: str) -> None:
    with pytest.raises(UnusableJSON, match=reason):
        loads(text)


def test_a_surrogate_pair_is_text_and_passes() -> None:
    assert loads('{"title": "ok \\ud83d\\ude00"}') == {"title": "ok \U0001f600"}


def test_syntax_errors_stay_json_decode_errors_with_their_position() -> None:
    with pytest.raises(json.JSONDecodeError) as info:
        loads('{"a": }')
    assert not isinstance(info.value, UnusableJSON)
    assert info.value.pos == 6
