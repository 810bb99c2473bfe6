"""Liveness and readiness probes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.helpers.app import make_app

from app.extensions import db


def test_healthz_is_ok_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_ready_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "database": "ok"}


@pytest.fixture
def app_without_database(tmp_path):
    # SQLite cannot create a file in a directory that does not exist.
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/notes.db")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_readyz_is_503_when_the_database_is_unreachable(app_without_database):
    response = app_without_database.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.get_json() == {"status": "unavailable", "database": "unreachable"}
    # Nothing about the failure (paths, driver messages) leaks to the caller.
    assert b"missing" not in response.data and b"sqlite" not in response.data.lower()


def test_healthz_stays_up_without_the_database(app_without_database):
    assert app_without_database.test_client().get("/healthz").status_code == 200


def test_readyz_recovers_when_a_query_fails_once(app, client, monkeypatch):
    real_execute = db.session.execute
    calls = []

    def failing_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))
        return real_execute(*args, **kwargs)

    monkeypatch.setattr(db.session, "execute", failing_once)
    assert client.get("/readyz").status_code == 503
    # A failed check leaves nothing behind: the next one answers normally.
    assert client.get("/readyz").status_code == 200


def test_probes_need_no_login_and_take_no_session(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
