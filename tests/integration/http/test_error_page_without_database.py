"""Errors while the database is down still get the app's own page, not gunicorn's
bare one or a traceback: the normal layout needs the database, the plain one does not."""

import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.extensions import db


def _database_down(*args, **kwargs):
    raise sa.exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused"))


def test_503_page_when_the_database_is_gone(app, client, logged_in, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    # Every query, the view's and the error page's current_user alike, whichever
    # of the session's ways in it takes.
    for way in ("execute", "scalars", "scalar"):
        monkeypatch.setattr(Session, way, _database_down)
    monkeypatch.setattr(db.session, "rollback", _database_down)
    response = client.get("/notes/")

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_data(as_text=True)
    assert "The database is busy or unreachable" in body
    assert "connection refused" not in body and "Traceback" not in body and "SELECT" not in body
    assert response.mimetype == "text/html"


def test_500_page_when_the_database_is_gone_by_the_time_a_bug_is_reported(app, client, logged_in, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def bug_then_database_down(*args, **kwargs):
        monkeypatch.setattr(Session, "execute", _database_down)
        monkeypatch.setattr(db.session, "rollback", _database_down)
        raise RuntimeError("a bug in the view")

    monkeypatch.setattr("app.notes.views.list_notes", bug_then_database_down)
    response = client.get("/notes/")

    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong on our side" in body
    assert "connection refused" not in body and "Traceback" not in body and "a bug in the view" not in body
    assert response.mimetype == "text/html"
