"""The JSON log format: one object per line, the known fields only."""

from __future__ import annotations

import json
import logging
import sys

from app.http.logs import JsonFormatter


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("notes.test", logging.WARNING, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_line_is_one_json_object_with_time_level_logger_and_message() -> None:
    line = JsonFormatter().format(_record("disk %s is %d%% full", "/data", 93))
    entry = json.loads(line)
    assert entry["message"] == "disk /data is 93% full"
    assert entry["level"] == "warning"
    assert entry["logger"] == "notes.test"
    assert entry["time"].endswith("Z") and "T" in entry["time"]


def test_a_message_cannot_forge_a_second_line() -> None:
    line = JsonFormatter().format(_record('evil\n{"level": "info", "message": "forged"}'))
    assert "\n" not in line
    assert json.loads(line)["message"].startswith("evil\n")


def test_known_fields_are_kept_and_unknown_ones_left_out() -> None:
    record = _record("x", request_id="abc", user_id=7, duration_ms=1.5, status=200, email="alice@example.com")
    entry = json.loads(JsonFormatter().format(record))
    assert entry["request_id"] == "abc"
    assert entry["user_id"] == 7
    assert entry["duration_ms"] == 1.5
    assert entry["status"] == 200
    assert "email" not in entry
    assert "alice@example.com" not in json.dumps(entry)


def test_fields_without_a_value_are_left_out() -> None:
    entry = json.loads(JsonFormatter().format(_record("x", request_id=None)))
    assert set(entry) == {"time", "level", "logger", "message"}


def test_an_exception_is_kept_inside_the_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exception"]
