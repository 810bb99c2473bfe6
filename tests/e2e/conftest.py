"""Tier 3 fixtures: the real app on a real PostgreSQL.

The server is ``TEST_DATABASE_URL`` when set, else a throwaway ``postgres:17``
container started with testcontainers. The schema is built once per session
by the real migrations; every test then runs inside one outer transaction
that is rolled back afterwards, so tests never see each other's rows.

Without Docker and without TEST_DATABASE_URL the tier is skipped with a hint,
except under CI=true, where a tier that quietly did nothing would hide
Postgres-only bugs: there it fails.

The fixtures from ``tests/conftest.py`` (``client``, ``factory``, ``auth``,
``user``, ``logged_in``) build on ``app``, so overriding ``app`` here is
enough to run them on Postgres.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session
from tests.helpers.e2e import dispose, e2e_config

from app import create_app
from app.config import validate_database_url
from app.models import db

# The reaper container (Ryuk) must be pulled from a registry, which offline
# machines and some CI runners cannot reach. The fixture below stops its own
# container, so the reaper is only a safety net; opt back in with
# TESTCONTAINERS_RYUK_DISABLED=false.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

POSTGRES_IMAGE = "postgres:17"
ENABLE_HINT = (
    "To run it, start Docker (testcontainers then runs " + POSTGRES_IMAGE + ") or set "
    "TEST_DATABASE_URL=postgresql+psycopg://USER:PASSWORD@HOST:5432/DBNAME "
    "(a database whose user may CREATE DATABASE, for the migration and concurrency tests)."
)


def _unavailable(reason: str) -> NoReturn:
    """Skip the tier, or fail it under CI=true where skipping would hide bugs."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(
            f"PostgreSQL tier cannot run, and CI=true forbids skipping it: {reason}. {ENABLE_HINT}", pytrace=False
        )
    pytest.skip(f"PostgreSQL tier skipped: {reason}. {ENABLE_HINT}")


def _docker_problem() -> str | None:
    """Why Docker cannot be used, or None when its daemon answers."""
    try:
        import docker

        client = docker.from_env(timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # any failure means "no usable Docker", whatever its type
        return f"Docker is not reachable ({exc.__class__.__name__}: {exc})"
    return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL (psycopg driver) of the database the tier runs on."""
    configured = os.environ.get("TEST_DATABASE_URL", "").strip()
    if configured:
        yield validate_database_url(configured)
        return
    problem = _docker_problem()
    if problem:
        _unavailable(problem)

    from testcontainers.community.postgres import PostgresContainer

    container = PostgresContainer(POSTGRES_IMAGE, driver="psycopg")
    container.start()
    try:
        yield container.get_connection_url()
    finally:
        # Ryuk is off (see above), so nobody else will remove it.
        container.stop()


@pytest.fixture(scope="session")
def fresh_database(postgres_url: str) -> Callable[[], Any]:
    """A context manager that creates an empty database on the same server,
    yields its URL, then drops it (closing any connection left open).

    For tests that must commit for real or rebuild the schema, so they never
    touch the shared, migrated database the other tests run in.
    """
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)

    @contextmanager
    def make() -> Iterator[str]:
        name = f"e2e_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return make


@pytest.fixture(scope="session")
def migrated_app(postgres_url: str) -> Iterator[Flask]:
    """One app for the session, its database upgraded by the real migrations."""
    app = create_app(e2e_config(postgres_url))
    app.test_client_class = FreshContextClient
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    dispose(app)


class FreshContextClient(FlaskClient):
    """Serves each request in an app context of its own, as a real server does.

    A test keeps an app context pushed (for the factory and direct queries),
    and Flask would reuse it for every request, so ``g`` (where Flask-Login
    caches the current user) and the ORM session would leak from one request,
    or one client, to the next.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


class JoinedSession(Session):
    """A Flask-SQLAlchemy session that uses the connection it was given.

    Flask-SQLAlchemy's ``get_bind`` picks the app's engine for every mapped
    class and never looks at ``Session(bind=...)``, so without this override
    the ORM would quietly run on fresh pooled connections and really commit.
    """

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kwargs: Any) -> Any:
        if bind is None and self.bind is not None:
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


@pytest.fixture
def app(migrated_app: Flask) -> Iterator[Flask]:
    """The Postgres app, with everything a test writes rolled back afterwards.

    ``db.session`` is bound to one connection inside an outer transaction; with
    join_transaction_mode="create_savepoint" a ``commit()`` in a view or the
    factory only releases a SAVEPOINT, so the outer ROLLBACK undoes it all.
    """
    with migrated_app.app_context():
        connection = db.engine.connect()
    outer = connection.begin()
    original_session = db.session
    db.session = db._make_scoped_session(
        {"class_": JoinedSession, "bind": connection, "join_transaction_mode": "create_savepoint"}
    )
    try:
        with migrated_app.app_context():
            try:
                yield migrated_app
            finally:
                # The scoped session is keyed by app context, so remove it in one.
                db.session.remove()
    finally:
        db.session = original_session
        outer.rollback()
        connection.close()


@pytest.fixture
def committed_app(fresh_database: Callable[[], Any]) -> Iterator[Callable[[], Flask]]:
    """Builds apps on one fresh, migrated database whose commits are real.

    For tests that need several connections to see each other's writes (the
    savepoint-wrapped ``app`` keeps everything on one connection). Every app
    built is disposed and the database dropped afterwards.
    """
    built: list[Flask] = []
    with fresh_database() as url:

        def build() -> Flask:
            app = create_app(e2e_config(url))
            app.test_client_class = FreshContextClient
            if not built:
                with app.app_context():
                    flask_migrate.upgrade()
            built.append(app)
            return app

        try:
            yield build
        finally:
            for app in built:
                dispose(app)
