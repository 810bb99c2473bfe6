"""Keyset cursors: what encode_cursor makes, decode_cursor reads back, and
anything else is a CursorError (never another exception)."""

from __future__ import annotations

import base64
import json
import random
import string
from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.http.pagination import CursorError, decode_cursor, encode_cursor

KINDS = (bool, datetime, int)
WHEN = datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)


def raw_cursor(payload: object) -> str:
    """A cursor with an arbitrary JSON payload, as a tamperer would build it."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_round_trip():
    cursor = encode_cursor((True, WHEN, 42))
    assert decode_cursor(cursor, KINDS) == (True, WHEN, 42)


def test_cursor_is_url_safe_and_opaque():
    cursor = encode_cursor((False, WHEN, 7))
    assert set(cursor) <= set(string.ascii_letters + string.digits + "-_")
    assert "=" not in cursor


def test_round_trip_keeps_the_instant_for_non_utc_offsets():
    local = datetime(2024, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=-5)))
    (_, decoded, _) = decode_cursor(encode_cursor((False, local, 1)), KINDS)
    assert decoded == local
    assert decoded.utcoffset() is not None


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!!",
        "%%%%",
        "not base64 at all ~",
        base64.urlsafe_b64encode(b"\xff\xfe\xfd\xfc").decode(),  # not UTF-8 / not JSON
        base64.urlsafe_b64encode(b"{not json").decode(),
        raw_cursor({"pinned": True}),  # JSON, but not a list
        raw_cursor("text"),
        raw_cursor(None),
    ],
)
def test_decode_refuses_garbage(cursor):
    with pytest.raises(CursorError):
        decode_cursor(cursor, KINDS)


@pytest.mark.parametrize(
    "payload",
    [
        [],
        [True, WHEN.isoformat()],
        [True, WHEN.isoformat(), 1, 2],
    ],
)
def test_decode_refuses_wrong_length(payload):
    with pytest.raises(CursorError):
        decode_cursor(raw_cursor(payload), KINDS)


@pytest.mark.parametrize(
    "payload",
    [
        [1, WHEN.isoformat(), 1],  # int where a bool belongs
        [0, WHEN.isoformat(), 1],
        ["true", WHEN.isoformat(), 1],
        [None, WHEN.isoformat(), 1],
        [True, WHEN.isoformat(), True],  # bool where an int belongs
        [True, WHEN.isoformat(), 1.5],
        [True, WHEN.isoformat(), "1"],
        [True, WHEN.isoformat(), None],
        [True, 1700000000, 1],  # epoch number where an ISO string belongs
        [True, None, 1],
        [True, "2024-01-01T00:00:00", 1],  # naive datetime
        [True, "yesterday", 1],
        [True, "", 1],
    ],
)
def test_decode_refuses_wrong_types(payload):
    with pytest.raises(CursorError):
        decode_cursor(raw_cursor(payload), KINDS)


def test_decode_refuses_overlong_cursor_before_decoding():
    valid_but_long = raw_cursor([True, WHEN.isoformat(), 10**150])
    assert len(valid_but_long) > 200
    with pytest.raises(CursorError, match="too long"):
        decode_cursor(valid_but_long, KINDS)
    with pytest.raises(CursorError, match="too long"):
        decode_cursor("A" * 201, KINDS)


# --- property-style checks over many random inputs --------------------------


def random_key(rng: random.Random) -> tuple[bool, datetime, int]:
    offset = timezone(timedelta(minutes=rng.randrange(-12 * 60, 14 * 60 + 1, 15)))
    instant = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(
        seconds=rng.randrange(0, 60 * 365 * 86400), microseconds=rng.randrange(1_000_000)
    )
    return (rng.random() < 0.5, instant.astimezone(offset), rng.randrange(1, 2**53))


def test_round_trip_property():
    rng = random.Random(20240229)
    for _ in range(500):
        key = random_key(rng)
        decoded = decode_cursor(encode_cursor(key), KINDS)
        assert decoded == key
        assert [type(v) for v in decoded] == [bool, datetime, int]
        assert decoded[1].tzinfo is not None


def test_distinct_keys_get_distinct_cursors_property():
    # Distinct keys never share a cursor, so a page can never restart at the wrong row.
    rng = random.Random(7)
    keys = {random_key(rng) for _ in range(500)}
    assert len({encode_cursor(k) for k in keys}) == len(keys)


def check_only_cursor_error(cursor: str) -> None:
    try:
        decoded = decode_cursor(cursor, KINDS)
    except CursorError:
        return
    assert [type(v) for v in decoded] == [bool, datetime, int]
    assert decoded[1].tzinfo is not None


def test_random_strings_fail_only_with_cursor_error_property():
    rng = random.Random(1234)
    alphabet = string.printable + "é€\x00\u2028"
    for _ in range(1000):
        check_only_cursor_error("".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 80))))


def test_tampered_cursors_fail_only_with_cursor_error_property():
    rng = random.Random(99)
    symbols = string.ascii_letters + string.digits + "-_"
    for _ in range(500):
        cursor = list(encode_cursor(random_key(rng)))
        for _ in range(rng.randrange(1, 4)):
            cursor[rng.randrange(len(cursor))] = rng.choice(symbols)
        check_only_cursor_error("".join(cursor))


def test_random_json_payloads_fail_only_with_cursor_error_property():
    rng = random.Random(5)
    atoms = [True, False, 0, 1, -1, 2**63, 1.0, "", "x", None, WHEN.isoformat(), "2024-01-01T00:00:00", [], {}]
    for _ in range(500):
        payload = [rng.choice(atoms) for _ in range(rng.randrange(0, 5))]
        check_only_cursor_error(raw_cursor(payload))


@pytest.mark.parametrize(
    "payload",
    [
        [True, "0001-01-01T00:00:00+14:00", 5],  # no such instant in UTC
        [True, "9999-12-31T23:59:59-14:00", 5],
        [True, "2030-01-01T00:00:00+00:00", 2**63],  # more than a database can bind
        [True, "2030-01-01T00:00:00+00:00", -(2**63) - 1],
    ],
)
def test_decode_refuses_values_no_database_can_compare(payload):
    with pytest.raises(CursorError):
        decode_cursor(raw_cursor(payload), KINDS)


def test_decoded_timestamps_are_in_utc():
    local = datetime(2024, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=-5)))
    (_, decoded, _) = decode_cursor(encode_cursor((False, local, 1)), KINDS)
    assert decoded.utcoffset() == timedelta(0)
