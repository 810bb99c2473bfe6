"""Prometheus metrics: what is counted, and that /metrics is answered on the metrics listener only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tests.helpers.app import make_app
from tests.helpers.data import PASSWORD, Factory
from tests.helpers.web import bearer

from app.metrics import exposition, series
from app.models import User, db

METRICS_PORT = 9100


class FakeSocket:
    """What gunicorn puts in ``environ["gunicorn.socket"]``: the connection, whose local port we read."""

    def __init__(self, port: int) -> None:
        self.port = port

    def getsockname(self) -> tuple[str, int]:
        return ("172.16.238.3", self.port)


def sample(name: str, **labels: str) -> float:
    """The current value of one sample of this process's series (0 when it was never counted)."""
    value = series.get().registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


@pytest.fixture
def metrics_app() -> Iterator[Flask]:
    app = make_app(METRICS_PORT=METRICS_PORT)
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()


def on_port(client: FlaskClient, port: int, path: str, **kwargs: Any) -> Any:
    return client.get(path, environ_base={"gunicorn.socket": FakeSocket(port)}, **kwargs)


# --- what is counted ---------------------------------------------------------


def test_requests_are_counted_by_endpoint_name_and_status(client: FlaskClient) -> None:
    before = sample("notes_http_requests_total", endpoint="health.healthz", method="GET", status="200")
    timed = sample("notes_http_request_duration_seconds_count", endpoint="health.healthz")
    assert client.get("/healthz").status_code == 200
    assert sample("notes_http_requests_total", endpoint="health.healthz", method="GET", status="200") == before + 1
    assert sample("notes_http_request_duration_seconds_count", endpoint="health.healthz") == timed + 1


def test_a_path_that_matches_no_route_never_becomes_a_label(client: FlaskClient) -> None:
    before = sample("notes_http_requests_total", endpoint="none", method="GET", status="404")
    assert client.get("/wp-admin/probe-1234.php").status_code == 404
    assert sample("notes_http_requests_total", endpoint="none", method="GET", status="404") == before + 1
    assert b"probe-1234" not in exposition.render()


def test_a_note_page_is_counted_under_its_endpoint_not_its_id(
    client: FlaskClient, logged_in: User, factory: Factory
) -> None:
    note = factory.note(logged_in, title="counted")
    assert client.get(f"/notes/{note.id}").status_code == 200
    text = exposition.render().decode()
    assert 'endpoint="notes.view"' in text
    assert f"/notes/{note.id}" not in text


def test_wrong_passwords_are_counted(client: FlaskClient, user: User) -> None:
    before = sample("notes_login_failures_total")
    response = client.post("/auth/login", data={"email": user.email, "password": "wrong"})
    assert response.status_code == 401
    assert sample("notes_login_failures_total") == before + 1
    client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert sample("notes_login_failures_total") == before + 1


def test_logins_refused_by_the_throttle_are_counted(app: Flask, client: FlaskClient, user: User) -> None:
    app.config.update(LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP=2)
    before = sample("notes_throttled_requests_total", limiter="login")
    for _ in range(2):
        assert client.post("/auth/login", data={"email": user.email, "password": "wrong"}).status_code == 401
    assert sample("notes_throttled_requests_total", limiter="login") == before
    assert client.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code == 429
    assert sample("notes_throttled_requests_total", limiter="login") == before + 1


def test_password_reset_requests_refused_by_the_throttle_are_counted(app: Flask, user: User, smtp: Any) -> None:
    app.config["PASSWORD_RESET_MAX_PER_EMAIL"] = 1
    before = sample("notes_throttled_requests_total", limiter="password_reset")
    assert app.test_client().post("/auth/forgot", data={"email": user.email}).status_code == 200
    assert sample("notes_throttled_requests_total", limiter="password_reset") == before
    assert app.test_client().post("/auth/forgot", data={"email": user.email}).status_code == 429
    assert sample("notes_throttled_requests_total", limiter="password_reset") == before + 1


def test_api_calls_over_the_rate_limit_are_counted(app: Flask, client: FlaskClient, alice_secret: str) -> None:
    app.config.update(API_RATE_LIMIT_PER_TOKEN=2)
    before = sample("notes_throttled_requests_total", limiter="api")
    statuses = [client.get("/api/v1/notes", headers=bearer(alice_secret)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert sample("notes_throttled_requests_total", limiter="api") == before + 1


def test_the_pool_gauges_follow_checkouts(file_app: Flask) -> None:
    engine = db.engine
    before = sample("notes_db_pool_checked_out")
    with engine.connect():
        assert sample("notes_db_pool_checked_out") == before + 1
        assert sample("notes_db_pool_size") == engine.pool.size()  # type: ignore[attr-defined]
    assert sample("notes_db_pool_checked_out") == before


# --- where it is served ------------------------------------------------------


def test_the_metrics_listener_serves_the_text_format(metrics_app: Flask) -> None:
    client = metrics_app.test_client()
    client.get("/healthz", environ_base={"gunicorn.socket": FakeSocket(8000)})
    response = on_port(client, METRICS_PORT, "/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    text = response.get_data(as_text=True)
    for name in (
        "notes_http_requests_total",
        "notes_http_request_duration_seconds_bucket",
        "notes_db_pool_checked_out",
        "notes_login_failures_total",
    ):
        assert f"\n{name}" in text, name
    assert 'endpoint="health.healthz"' in text


def test_the_metrics_listener_answers_nothing_else(metrics_app: Flask) -> None:
    client = metrics_app.test_client()
    assert on_port(client, METRICS_PORT, "/healthz").status_code == 404
    assert on_port(client, METRICS_PORT, "/notes/").status_code == 404
    assert client.post("/metrics", environ_base={"gunicorn.socket": FakeSocket(METRICS_PORT)}).status_code == 405


@pytest.mark.parametrize(
    "environ",
    [
        {"gunicorn.socket": FakeSocket(8000)},  # the app's port, where nginx sends the public
        {},  # no socket at all
        # Headers a client could send, or a proxy set, change nothing.
        {"gunicorn.socket": FakeSocket(8000), "HTTP_X_FORWARDED_PORT": "9100", "SERVER_PORT": "9100"},
    ],
)
def test_the_app_port_has_no_metrics(metrics_app: Flask, environ: dict[str, Any]) -> None:
    response = metrics_app.test_client().get("/metrics", environ_base=environ)
    assert response.status_code == 404
    assert b"notes_http_requests" not in response.data


def test_without_a_metrics_port_nothing_is_served(client: FlaskClient) -> None:
    response = client.get("/metrics", environ_base={"gunicorn.socket": FakeSocket(METRICS_PORT)})
    assert response.status_code == 404


# --- the state of the stack's jobs, from their status files -------------------


def test_the_certificate_status_becomes_gauges(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """What the acme service reports (acme/notes_acme.py) is scraped from OPS_STATUS_DIR through the metrics port."""
    (tmp_path / "acme-status.json").write_text(
        '{"state": "error", "error": "CA unreachable", "checked_at": "2026-11-30T12:00:00+00:00",'
        ' "certificate": {"not_after_unix": 1798000000, "issuer": "CN=Pebble"}}'
    )
    app = make_app(METRICS_PORT=METRICS_PORT, OPS_STATUS_DIR=str(tmp_path))
    with app.app_context():
        db.create_all()
        text = on_port(app.test_client(), METRICS_PORT, "/metrics").get_data(as_text=True)
    assert "notes_certificate_expiry_timestamp_seconds 1.798e+09" in text
    assert "notes_certificate_check_ok 0.0" in text
    assert "notes_certificate_checked_timestamp_seconds 1.79604e+09" in text


@pytest.mark.parametrize("content", [None, "not json", "[1, 2]", '{"state": "ok", "certificate": null}'])
def test_a_missing_or_unreadable_status_gives_no_expiry(tmp_path, content) -> None:  # type: ignore[no-untyped-def]
    """No file, or one that says nothing of a certificate: no made-up expiry, so an alert on its absence can fire."""
    if content is not None:
        (tmp_path / "acme-status.json").write_text(content)
    text = exposition.render(str(tmp_path)).decode()
    assert "notes_certificate_expiry_timestamp_seconds" not in text


def test_the_backup_status_becomes_gauges(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """What the backup service reports (db/backup-loop.sh); a WAL field it could not read gives no series."""
    (tmp_path / "backup-status.json").write_text(
        '{"checked_unix": 1796040000.5, "backups": 3, "last_unix": 1796030000, "last_full_unix": 1795000000,'
        ' "wal": {"last_archived_unix": 1796039990.25, "failed_count": 0, "last_failed_unix": null}}'
    )
    text = exposition.render(str(tmp_path)).decode()
    assert "notes_backup_count 3.0" in text
    assert "notes_backup_last_timestamp_seconds 1.79603e+09" in text
    assert "notes_backup_last_full_timestamp_seconds 1.795e+09" in text
    assert "notes_backup_wal_archive_failures 0.0" in text
    assert "notes_backup_wal_last_archived_timestamp_seconds" in text


def test_a_repository_with_no_backup_yet_reports_no_backup_time(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "backup-status.json").write_text(
        '{"checked_unix": 1796040000, "backups": 0, "last_unix": null, "wal": null}'
    )
    text = exposition.render(str(tmp_path)).decode()
    assert "notes_backup_count 0.0" in text
    assert "notes_backup_last_timestamp_seconds" not in text
