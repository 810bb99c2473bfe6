"""Request ids: echoed when a client sends a harmless one, made up otherwise,
and written with every access-log line."""

from __future__ import annotations

import logging
import re

import pytest
from tests.helpers.app import make_app

from app.extensions import db

HEX32 = re.compile(r"^[0-9a-f]{32}$")
ACCESS = "notes.access"


@pytest.mark.parametrize("rid", ["abc-123", "a.b:c_d-E", "x" * 128, "0123456789abcdef0123456789abcdef"])
def test_valid_request_id_is_echoed(client, rid):
    response = client.get("/healthz", headers={"X-Request-ID": rid})
    assert response.headers["X-Request-ID"] == rid


def test_missing_request_id_is_generated(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert HEX32.match(first) and HEX32.match(second)
    assert first != second


@pytest.mark.parametrize(
    "rid",
    [
        "x" * 129,
        "has space",
        "<script>alert(1)</script>",
        "abc\nX-Injected: 1",
        "abc\r\nSet-Cookie: session=evil",
        "ünïcode",
        "",
    ],
)
def test_invalid_request_id_is_replaced(client, rid):
    # Set through the WSGI environ: the test client refuses newlines in headers.
    response = client.get("/healthz", environ_overrides={"HTTP_X_REQUEST_ID": rid})
    assert HEX32.match(response.headers["X-Request-ID"])
    assert "X-Injected" not in response.headers
    assert not response.headers.getlist("Set-Cookie")


def test_error_responses_carry_the_request_id_too(client):
    response = client.get("/no/such/page", headers={"X-Request-ID": "trace-404"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "trace-404"


@pytest.fixture
def access_log():
    """Restore the access logger afterwards: create_app configures it globally."""
    logger = logging.getLogger(ACCESS)
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield logger
    logger.handlers[:] = saved[0]
    logger.setLevel(saved[1])
    logger.propagate = saved[2]


def _logging_app(caplog):
    app = make_app(ACCESS_LOG=True)
    # The app's logger does not propagate to the root, where caplog listens;
    # attach caplog's handler to it directly (a no-op if pytest already did).
    logging.getLogger(ACCESS).addHandler(caplog.handler)
    return app


def _lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == ACCESS]


def test_one_access_line_per_request_with_the_id(access_log, caplog):
    app = _logging_app(caplog)
    with app.app_context():
        db.create_all()
        client = app.test_client()
        caplog.clear()
        client.get("/healthz", headers={"X-Request-ID": "trace-1"})
        client.get("/no/such/page?x=1", headers={"X-Request-ID": "trace-2"})
        response = client.post("/auth/login", data={"email": "x@example.com", "password": "wrong password"})
        lines = _lines(caplog)
    assert len(lines) == 3
    assert '"GET /healthz" 200' in lines[0] and lines[0].endswith("rid=trace-1")
    assert '"GET /no/such/page?x=1" 404' in lines[1] and lines[1].endswith("rid=trace-2")
    assert '"POST /auth/login" 401' in lines[2]
    assert lines[2].endswith(f"rid={response.headers['X-Request-ID']}")
    # The password is never part of the line.
    assert "wrong password" not in "\n".join(lines)


def test_a_secret_link_is_logged_redacted(access_log, caplog):
    app = _logging_app(caplog)
    secret = "inv_" + "S3cr3tInv1te" * 3
    with app.app_context():
        db.create_all()
        caplog.clear()
        app.test_client().get(f"/auth/register?invite={secret}")
        lines = _lines(caplog)
    assert len(lines) == 1
    assert '"GET /auth/register?invite=inv_[redacted]"' in lines[0]
    assert secret not in caplog.text


def test_a_path_cannot_forge_an_access_line(access_log, caplog):
    """%0A in a URL is decoded into the path; logged as it is, it would
    start a line of the attacker's choosing (ASVS 16.4.1)."""
    app = _logging_app(caplog)
    caplog.clear()
    app.test_client().get('/x%0D%0A2099-01-01 notes.access 6.6.6.6 "GET /admin" 200')
    [line] = _lines(caplog)
    assert "\n" not in line and "\r" not in line
    assert '"GET /x%0D%0A2099-01-01%20notes.access%206.6.6.6%20%22GET%20/admin%22%20200" 404' in line


def test_no_app_access_line_under_gunicorn(access_log, caplog):
    app = _logging_app(caplog)
    caplog.clear()
    response = app.test_client().get("/healthz", environ_overrides={"SERVER_SOFTWARE": "gunicorn/23.0.0"})
    # gunicorn writes its own line (with the X-Request-ID header).
    assert _lines(caplog) == []
    assert HEX32.match(response.headers["X-Request-ID"])


def test_access_log_off_writes_nothing(access_log, caplog):
    app = make_app(ACCESS_LOG=False)
    logging.getLogger(ACCESS).addHandler(caplog.handler)
    caplog.clear()
    app.test_client().get("/healthz")
    assert _lines(caplog) == []


def test_access_log_on_after_an_app_that_had_it_off(access_log, caplog):
    """Regression: the logger is process-wide, and an app with ACCESS_LOG on
    stayed silent when an earlier app (with the handler already added) had
    turned the level down."""
    make_app(ACCESS_LOG=True)
    make_app(ACCESS_LOG=False)
    app = _logging_app(caplog)
    caplog.clear()
    app.test_client().get("/healthz")
    assert len(_lines(caplog)) == 1
