"""A server error while the database is down still gets the app's generic
page, not gunicorn's bare one: the normal layout needs the database."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.extensions import db


def test_500_page_when_the_database_is_gone(app, client, logged_in, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def database_down(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    # Every query, the failing view's and the error page's current_user alike.
    monkeypatch.setattr(Session, "execute", database_down)
    monkeypatch.setattr(db.session, "rollback", database_down)
    response = client.get("/notes/")

    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong on our side" in body
    assert "connection refused" not in body and "Traceback" not in body and "SELECT" not in body
    assert response.mimetype == "text/html"
