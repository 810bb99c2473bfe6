"""/readyz on PostgreSQL: not ready until the database is migrated to this code's head."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask_migrate
import pytest
from alembic.script import ScriptDirectory
from tests.helpers.e2e import dispose, e2e_config

from app import create_app

pytestmark = pytest.mark.e2e


def test_readyz_waits_for_the_migration_to_the_head(fresh_database: Callable[[], Any]) -> None:
    with fresh_database() as url:
        app = create_app(e2e_config(url))
        try:
            script = ScriptDirectory(app.extensions["migrate"].directory)
            head = script.get_current_head()
            older = script.get_revision(head).down_revision
            client = app.test_client()

            # Empty: the version table is not there yet, which is a schema behind, not an error.
            response = client.get("/readyz")
            assert response.status_code == 503
            assert response.get_json() == {
                "status": "unavailable",
                "database": "ok",
                "schema": "behind",
                "revision": None,
                "head": head,
            }

            with app.app_context():
                flask_migrate.upgrade(revision=older)
            response = client.get("/readyz")
            assert response.status_code == 503
            assert response.get_json() == {
                "status": "unavailable",
                "database": "ok",
                "schema": "behind",
                "revision": older,
                "head": head,
            }

            with app.app_context():
                flask_migrate.upgrade()
            response = client.get("/readyz")
            assert response.status_code == 200
            assert response.get_json() == {
                "status": "ready",
                "database": "ok",
                "schema": "current",
                "revision": head,
                "head": head,
            }
        finally:
            dispose(app)
