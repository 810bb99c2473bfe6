"""JSONStream: values read a piece at a time are the values json.loads gives, errors on the same line."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from app.http.jsonbody import UnusableJSON
from app.notes.jsonstream import JSONStream


def pieces(text: str, size: int) -> Callable[[int], str]:
    """A reader giving ``text`` ``size`` characters at a time, whatever it is asked for."""
    at = 0

    def read(_: int) -> str:
        nonlocal at
        piece = text[at : at + size]
        at += size
        return piece

    return read


def items(text: str, size: int) -> list[object]:
    """The elements of the JSON array ``text``, read through JSONStream."""
    stream = JSONStream(pieces(text, size))
    stream.expect("[", "'['")
    found = []
    ended = stream.peek() == "]"
    if ended:
        stream.expect("]", "']'")
    while not ended:
        found.append(stream.value())
        ended = stream.expect(",]", "',' delimiter") == "]"
    stream.end()
    return found


VALUES = [
    12345,
    -0.5e-3,
    1.0,
    'é😀 "quoted" \\u escaped \u2028',
    {"a": [1, 2, {"b": None}], "t": True, "f": False},
    [],
    {},
    10**30,
]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_values_cut_anywhere_come_out_as_json_loads_gives_them(size: int) -> None:
    text = json.dumps(VALUES, ensure_ascii=False, indent=2)
    found = items(text, size)
    assert found == json.loads(text)
    assert [type(v) for v in found] == [type(v) for v in json.loads(text)]


def test_a_number_cut_by_the_end_of_a_piece_is_read_whole() -> None:
    assert items("[12345678, 9]", 3) == [12345678, 9]


@pytest.mark.parametrize("cut", [5, 40, 77, 100, 130])
def test_a_syntax_error_is_reported_on_the_line_json_loads_names(cut: int) -> None:
    text = json.dumps([{"n": n, "text": "x" * n} for n in range(20)], indent=2)[:cut]
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as streamed:
        items(text, 4)
    assert streamed.value.lineno == expected.value.lineno


def test_extra_data_after_the_document_is_an_error_on_its_line() -> None:
    with pytest.raises(json.JSONDecodeError) as streamed:
        items("[1,\n2]\n\n3", 2)
    assert streamed.value.msg == "Extra data" and streamed.value.lineno == 4


def test_a_lone_surrogate_is_unusable_as_for_loads() -> None:
    with pytest.raises(UnusableJSON, match="lone UTF-16 surrogate"):
        items('["fine", "\\ud800"]', 3)
