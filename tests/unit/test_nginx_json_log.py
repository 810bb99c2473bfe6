"""nginx's JSON access line (nginx/templates/notes.conf.template), checked without nginx.

The template's log_format is filled in with sample values as nginx would
(escape=json escapes the variables), and its duration map is run with
Python's re, which reads that regex as PCRE does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

TEMPLATE = (Path(__file__).resolve().parents[2] / "nginx" / "templates" / "notes.conf.template").read_text()


def _json_format() -> str:
    found = re.search(r"log_format notes_json escape=json ((?:'[^']*'\s*)+);", TEMPLATE)
    assert found, "no notes_json log_format"
    return "".join(re.findall(r"'([^']*)'", found.group(1)))


def _duration_ms(request_time: str) -> str:
    block = re.search(r"map \$request_time \$notes_duration_ms \{(.*?)\n\}", TEMPLATE, re.S)
    assert block
    pattern, value = re.search(r'"~(.*?)"\s+"(.*?)";', block.group(1)).groups()  # type: ignore[union-attr]
    match = re.match(pattern.replace("(?<", "(?P<"), request_time)
    if not match:
        return "0"
    return re.sub(r"\$\{(\w+)\}", lambda m: match.group(m.group(1)), value)


@pytest.mark.parametrize(
    ("request_time", "ms"),
    [("0.000", 0), ("0.001", 1), ("0.012", 12), ("0.100", 100), ("1.234", 1234), ("10.050", 10050)],
)
def test_the_duration_is_whole_milliseconds_without_leading_zeros(request_time: str, ms: int) -> None:
    text = _duration_ms(request_time)
    assert json.loads(text) == ms
    assert text == str(ms)


def test_a_filled_in_line_is_one_json_object_with_the_request_id() -> None:
    def escape(value: str) -> str:  # what escape=json does to a variable's value
        return json.dumps(value)[1:-1]

    values = {
        "time_iso8601": "2026-11-30T14:00:00+00:00",
        "notes_logged_request": escape('GET /auth/register?invite=inv_[redacted]&x="y" HTTP/2.0'),
        "status": "200",
        "notes_request_id": "trace-1",
        "body_bytes_sent": "512",
        "notes_duration_ms": _duration_ms("0.012"),
        "remote_addr": "203.0.113.9",
        "notes_upstream_addr": "172.16.238.3:8000",
        "upstream_response_time": "0.011",
    }
    line = re.sub(r"\$(\w+)", lambda m: values[m.group(1)], _json_format())
    entry = json.loads(line)
    assert entry["request_id"] == "trace-1"
    assert entry["logger"] == "nginx.access"
    assert entry["status"] == 200
    assert entry["duration_ms"] == 12
    assert entry["request"].startswith("GET /auth/register?invite=inv_[redacted]")


def test_every_server_logs_in_the_format_the_stack_picks() -> None:
    logs = re.findall(r"access_log (\S+)(?: (\S+))?;", TEMPLATE)
    assert logs
    assert all(fmt == "notes_${NGINX_LOG_FORMAT}" for path, fmt in logs if path != "off")


def test_nginx_redacts_the_same_secrets_as_the_app() -> None:
    from app.http.requestlog import SECRET_IN_URL

    nginx_kinds = re.search(r"\(\?<kind>([a-z|]+)\)_", TEMPLATE)
    app_kinds = re.search(r"\(([a-z|]+)\)_", SECRET_IN_URL.pattern)
    assert nginx_kinds and app_kinds
    assert set(nginx_kinds.group(1).split("|")) == set(app_kinds.group(1).split("|"))
