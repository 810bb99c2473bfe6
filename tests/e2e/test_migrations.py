"""The migrations build the schema the models describe, on PostgreSQL.

SQLite tiers build tables with ``create_all()``; production runs
``flask db upgrade`` on Postgres, so this is where a migration that drifts
from the models, or cannot be undone, shows up.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from tests.helpers.e2e import dispose, e2e_config

from app import create_app
from app.db.cli import MIGRATION_LOCK_KEY
from app.models import db

pytestmark = pytest.mark.e2e

APP_TABLES = {
    "users",
    "notes",
    "api_tokens",
    "login_sessions",
    "auth_failures",
    "tags",
    "note_tags",
    "rate_events",
    "idempotency_records",
    "api_rate_windows",
    "invites",
    "password_resets",
    "recovery_codes",
    "two_factor_challenges",
    "audit_events",
    "oidc_identities",
    "note_revisions",
    "note_shares",
    "note_attachments",
}


def _flask_db(app: Flask, *args: str) -> None:
    """Run ``flask db <args>`` through the real CLI; fail with its output."""
    result = app.test_cli_runner().invoke(args=["db", *args])
    assert result.exit_code == 0, f"flask db {' '.join(args)} failed:\n{result.output}\n{result.exception!r}"


def _schema(url: str) -> tuple[set[str], str | None, set[str]]:
    """(tables, alembic revision, index names on users) as the server sees them now."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            tables = set(inspector.get_table_names())
            revision = MigrationContext.configure(conn).get_current_revision()
            indexes = {ix["name"] for ix in inspector.get_indexes("users")} if "users" in tables else set()
    finally:
        engine.dispose()
    return tables, revision, {name for name in indexes if name}


def _head(app: Flask) -> str:
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def test_upgrade_from_empty_then_downgrade_to_base_and_upgrade_again(fresh_database: Callable[[], Any]) -> None:
    with fresh_database() as url:
        app = create_app(e2e_config(url))
        try:
            assert _schema(url)[0] == set(), "the fresh database should start empty"
            head = _head(app)

            _flask_db(app, "upgrade")
            tables, revision, indexes = _schema(url)
            assert tables == APP_TABLES | {"alembic_version"}
            assert revision == head
            assert "uq_users_email_lower" in indexes

            _flask_db(app, "downgrade", "base")
            tables, revision, _ = _schema(url)
            # Nothing left behind but Alembic's own bookkeeping, which is empty.
            assert tables == {"alembic_version"}
            assert revision is None

            _flask_db(app, "upgrade")
            tables, revision, indexes = _schema(url)
            assert tables == APP_TABLES | {"alembic_version"}
            assert revision == head
            assert "uq_users_email_lower" in indexes
        finally:
            dispose(app)


def _differences(app: Flask, conn: sa.Connection) -> list[Any]:
    """What autogenerate would write to bring the database in line with the models,
    compared with the options ``create_app`` gives Flask-Migrate."""
    opts = {
        key: value
        for key, value in app.extensions["migrate"].configure_args.items()
        if key in ("compare_type", "compare_server_default", "render_item", "include_object", "include_name")
    }
    context = MigrationContext.configure(conn, opts=opts)
    return list(compare_metadata(context, db.metadata))


def test_models_and_migrations_agree(migrated_app: Flask) -> None:
    with migrated_app.app_context(), db.engine.connect() as conn:
        assert _differences(migrated_app, conn) == []


def test_model_comparison_notices_a_missing_expression_index(migrated_app: Flask) -> None:
    """The agreement check above can fail: drop the lower(email) index inside a
    transaction that is rolled back, and the comparison must ask for it back."""
    with migrated_app.app_context(), db.engine.connect() as conn, conn.begin() as transaction:
        conn.execute(sa.text("DROP INDEX uq_users_email_lower"))
        differences = _differences(migrated_app, conn)
        transaction.rollback()
    assert [(d[0], d[1].name) for d in differences] == [("add_index", "uq_users_email_lower")]


def test_deploy_migrate_builds_a_fresh_database_and_is_a_no_op_the_second_time(
    fresh_database: Callable[[], Any],
) -> None:
    """What the stack's migrate service runs, against a real PostgreSQL."""
    with fresh_database() as url:
        app = create_app(e2e_config(url))
        try:
            for _ in range(2):
                result = app.test_cli_runner().invoke(args=["deploy", "migrate", "--attempts", "2", "--interval", "0"])
                assert result.exit_code == 0, result.output
                tables, revision, _ = _schema(url)
                assert tables >= APP_TABLES
                assert revision == _head(app)
        finally:
            dispose(app)


WEB_DIR = Path(__file__).resolve().parents[2] / "web"
REPLICAS = 4
# Seconds between a replica's tries, for the database and for the lock: the
# replicas, let in together, all start their migration within this much time
# of each other, far less than a migration from empty takes.
TRY_INTERVAL = 0.05


def _deploy_migrate_process(url: str) -> subprocess.Popen[str]:
    """``flask deploy migrate`` as a web replica runs it when it starts: a process of its own, in production mode."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "APP_ENV": "prod",
        "SECRET_KEY": "k" * 48,
        "DATABASE_URL": url,
        "FLASK_APP": "app:create_app",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "deploy", "migrate", "--attempts", "1200", "--interval", str(TRY_INTERVAL)],
        cwd=WEB_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _read_until(process: subprocess.Popen[str], text: str) -> str:
    """What ``process`` printed up to and including its first line holding ``text``; fail if it ends first."""
    assert process.stdout is not None
    seen = []
    for line in iter(process.stdout.readline, ""):
        seen.append(line)
        if text in line:
            return "".join(seen)
    process.wait(timeout=10)
    raise AssertionError(f"the process ended ({process.returncode}) before printing {text!r}:\n{''.join(seen)}")


def test_replicas_migrating_at_once_apply_each_migration_once_and_all_succeed(
    postgres_url: str, fresh_database: Callable[[], Any]
) -> None:
    """Every replica of a swarm service runs `flask deploy migrate` as it starts; the advisory lock
    lets one migrate while the others wait, then find nothing to do. Without it they race to
    create the same tables and all but one fail on a duplicate key.

    The database refuses connections until every replica has tried once, so that they all
    start migrating together however long each took to start.
    """
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with fresh_database() as url:
        name = sa.make_url(url).database

        def allow_connections(allowed: bool) -> None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}'))

        allow_connections(False)
        processes = [_deploy_migrate_process(url) for _ in range(REPLICAS)]
        try:
            early = [_read_until(process, "database not ready") for process in processes]
            allow_connections(True)
            outputs = [
                before + process.communicate(timeout=120)[0] for before, process in zip(early, processes, strict=True)
            ]
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            admin.dispose()
        failed = [out for process, out in zip(processes, outputs, strict=True) if process.returncode != 0]
        assert failed == [], "\n\n".join(failed)
        # They did meet: all but the first found the lock taken and waited for it.
        waited = [out for out in outputs if "another migration holds the lock" in out]
        assert len(waited) >= REPLICAS - 1, "\n\n".join(outputs)

        app = create_app(e2e_config(url))
        try:
            head = _head(app)
        finally:
            dispose(app)
        tables, _, _ = _schema(url)
        assert tables == APP_TABLES | {"alembic_version"}
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
        finally:
            engine.dispose()


def test_deploy_migrate_gives_up_when_another_holds_the_lock_too_long(fresh_database: Callable[[], Any]) -> None:
    """The wait for the lock is bounded by --attempts and --interval, and says what held it up."""
    with fresh_database() as url:
        app = create_app(e2e_config(url))
        holder = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        try:
            with holder.connect() as conn:
                assert conn.scalar(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                result = app.test_cli_runner().invoke(args=["deploy", "migrate", "--attempts", "3", "--interval", "0"])
                assert result.exit_code == 1
                assert result.output.count("another migration holds the lock") == 3
                assert "another `flask deploy migrate` held the migration lock through 3 attempts" in result.output
                assert _schema(url)[0] == set(), "nothing may be migrated without the lock"

            # The holder's session ended, and the lock with it: now it migrates.
            result = app.test_cli_runner().invoke(args=["deploy", "migrate", "--attempts", "1"])
            assert result.exit_code == 0, result.output
            assert _schema(url)[1] == _head(app)
        finally:
            holder.dispose()
            dispose(app)


def test_0012_session_devices_up_and_down_keep_the_sessions(fresh_database: Callable[[], Any]) -> None:
    """The columns come and go on PostgreSQL; a session from before has none and survives both ways."""
    with fresh_database() as url:
        app = create_app(e2e_config(url))
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            _flask_db(app, "upgrade", "0011")
            with engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO users (id, email, password_hash, created_at) VALUES (1, 'a@x.org', 'h', now())"
                    )
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO login_sessions (user_id, token_hash, remember, created_at, last_seen_at)"
                        " VALUES (1, 'h1', false, now(), now())"
                    )
                )

            _flask_db(app, "upgrade", "0012")
            with engine.connect() as conn:
                columns = {c["name"]: c for c in sa.inspect(conn).get_columns("login_sessions")}
                assert columns["user_agent"]["type"].length == 255 and columns["user_agent"]["nullable"]
                assert columns["ip"]["type"].length == 45 and columns["ip"]["nullable"]
                rows = conn.execute(sa.text("SELECT token_hash, user_agent, ip FROM login_sessions")).all()
                assert rows == [("h1", None, None)]

            _flask_db(app, "downgrade", "0011")
            with engine.connect() as conn:
                names = {c["name"] for c in sa.inspect(conn).get_columns("login_sessions")}
                assert not names & {"user_agent", "ip"}
                assert conn.execute(sa.text("SELECT token_hash FROM login_sessions")).scalars().all() == ["h1"]
            assert "uq_users_email_lower" in _schema(url)[2]
        finally:
            engine.dispose()
            dispose(app)


def _user_with_two_notes(engine: sa.Engine) -> None:
    """User 1 with notes 1 and 2, written with SQL as any revision's schema takes them."""
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO users (id, email, password_hash, created_at) VALUES (1, 'a@x.org', 'h', now())")
        )
        conn.execute(
            sa.text(
                "INSERT INTO notes (id, owner_id, title, content, pinned, archived, created_at,"
                " updated_at, version) VALUES (:id, 1, 't', 'c', false, false, now(), now(), 1)"
            ),
            [{"id": 1}, {"id": 2}],
        )


def test_0013_note_revisions_up_and_down_keep_the_notes(fresh_database: Callable[[], Any]) -> None:
    """The table comes and goes on PostgreSQL; its rows go with their note, and notes survive both ways."""
    with fresh_database() as url:
        app = create_app(e2e_config(url))
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            _flask_db(app, "upgrade", "0012")
            _user_with_two_notes(engine)

            _flask_db(app, "upgrade", "0013")
            with engine.begin() as conn:
                inspector = sa.inspect(conn)
                fks = {
                    fk["referred_table"]: fk["options"].get("ondelete")
                    for fk in inspector.get_foreign_keys("note_revisions")
                }
                assert fks == {"notes": "CASCADE", "users": "SET NULL"}
                indexes = {ix["name"] for ix in inspector.get_indexes("note_revisions")}
                assert {"ix_note_revisions_note", "ix_note_revisions_last_save_at"} <= indexes
                for note_id in (1, 2):
                    conn.execute(
                        sa.text(
                            "INSERT INTO note_revisions (note_id, note_version, saved_at, title, content, tags,"
                            " author_id, client, created_at, last_save_at)"
                            " VALUES (:id, 1, now(), 'old', 'old', '', 1, '', now(), now())"
                        ),
                        {"id": note_id},
                    )
                conn.execute(sa.text("DELETE FROM notes WHERE id = 2"))
                assert conn.execute(sa.text("SELECT note_id FROM note_revisions")).scalars().all() == [1]
                conn.execute(sa.text("DELETE FROM users WHERE id = 1"))  # notes go with their owner, revisions too
                assert conn.execute(sa.text("SELECT count(*) FROM note_revisions")).scalar() == 0
                conn.execute(
                    sa.text(
                        "INSERT INTO users (id, email, password_hash, created_at) VALUES (1, 'a@x.org', 'h', now())"
                    )
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO notes (id, owner_id, title, content, pinned, archived, created_at,"
                        " updated_at, version) VALUES (3, 1, 'kept', 'c', false, false, now(), now(), 2)"
                    )
                )

            _flask_db(app, "downgrade", "0012")
            tables, revision, _ = _schema(url)
            assert "note_revisions" not in tables and revision == "0012"
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT title FROM notes")).scalars().all() == ["kept"]

            _flask_db(app, "upgrade")
            assert "note_revisions" in _schema(url)[0]
        finally:
            engine.dispose()
            dispose(app)


def test_0014_note_shares_up_and_down_keep_the_notes(fresh_database: Callable[[], Any]) -> None:
    """The table comes and goes on PostgreSQL; a link goes with its note, and one secret is one link."""
    with fresh_database() as url:
        app = create_app(e2e_config(url))
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            _flask_db(app, "upgrade", "0013")
            _user_with_two_notes(engine)

            _flask_db(app, "upgrade", "0014")
            share = "INSERT INTO note_shares (note_id, token_hash, created_at) VALUES (:id, :hash, now())"
            with engine.begin() as conn:
                fks = {
                    fk["referred_table"]: fk["options"].get("ondelete")
                    for fk in sa.inspect(conn).get_foreign_keys("note_shares")
                }
                assert fks == {"notes": "CASCADE"}
                conn.execute(sa.text(share), [{"id": 1, "hash": "a" * 64}, {"id": 2, "hash": "b" * 64}])
                conn.execute(sa.text("DELETE FROM notes WHERE id = 2"))
                assert conn.execute(sa.text("SELECT note_id FROM note_shares")).scalars().all() == [1]
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
                conn.execute(sa.text(share), {"id": 1, "hash": "a" * 64})

            _flask_db(app, "downgrade", "0013")
            tables, revision, _ = _schema(url)
            assert "note_shares" not in tables and revision == "0013"
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT id FROM notes")).scalars().all() == [1]
            _flask_db(app, "upgrade")
            assert "note_shares" in _schema(url)[0]
        finally:
            engine.dispose()
            dispose(app)


def test_0015_note_attachments_up_and_down_keep_the_notes(fresh_database: Callable[[], Any]) -> None:
    """The table comes and goes on PostgreSQL; a file's row goes with its note and its owner."""
    with fresh_database() as url:
        app = create_app(e2e_config(url))
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            _flask_db(app, "upgrade", "0014")
            _user_with_two_notes(engine)

            _flask_db(app, "upgrade", "0015")
            row = (
                "INSERT INTO note_attachments (note_id, owner_id, key, filename, content_type, size, sha256, "
                "created_at) VALUES (:id, 1, :key, 'a.png', 'image/png', 3, :sha, now())"
            )
            with engine.begin() as conn:
                fks = {
                    fk["referred_table"]: fk["options"].get("ondelete")
                    for fk in sa.inspect(conn).get_foreign_keys("note_attachments")
                }
                assert fks == {"notes": "CASCADE", "users": "CASCADE"}
                conn.execute(
                    sa.text(row), [{"id": 1, "key": "k1", "sha": "a" * 64}, {"id": 2, "key": "k2", "sha": "a" * 64}]
                )
                conn.execute(sa.text("DELETE FROM notes WHERE id = 2"))
                assert conn.execute(sa.text("SELECT key FROM note_attachments")).scalars().all() == ["k1"]
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
                conn.execute(sa.text(row), {"id": 1, "key": "k1", "sha": "b" * 64})

            _flask_db(app, "downgrade", "0014")
            tables, revision, _ = _schema(url)
            assert "note_attachments" not in tables and revision == "0014"
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT id FROM notes")).scalars().all() == [1]
            _flask_db(app, "upgrade")
            assert "note_attachments" in _schema(url)[0]
        finally:
            engine.dispose()
            dispose(app)


def test_0016_note_excerpts_filled_on_postgres_and_dropped_again(fresh_database: Callable[[], Any]) -> None:
    """The excerpt columns come filled by the app's own renderer, and go again."""
    from app.notes.markdown import EXCERPT_VERSION

    with fresh_database() as url:
        app = create_app(e2e_config(url))
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            _flask_db(app, "upgrade", "0015")
            _user_with_two_notes(engine)
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE notes SET content = '- [ ] *buy* milk' WHERE id = 2"))
            _flask_db(app, "upgrade", "0016")
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT id, excerpt, excerpt_version FROM notes ORDER BY id")).all()
            assert rows[1][1:] == ("buy milk", EXCERPT_VERSION) and rows[0][2] == EXCERPT_VERSION
            _flask_db(app, "downgrade", "0015")
            with engine.connect() as conn:
                columns = {c["name"] for c in sa.inspect(conn).get_columns("notes")}
            assert not {"excerpt", "excerpt_version"} & columns
            _flask_db(app, "upgrade")
        finally:
            engine.dispose()
            dispose(app)


def test_0017_tag_counts_on_postgres_up_and_down(fresh_database: Callable[[], Any]) -> None:
    """The count column comes filled and kept by the triggers, and goes with them."""
    with fresh_database() as url:
        app = create_app(e2e_config(url))
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            _flask_db(app, "upgrade", "0016")
            _user_with_two_notes(engine)
            with engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO tags (id, owner_id, name, name_key, created_at) VALUES (1, 1, 'a', 'a', now())"
                    )
                )
                conn.execute(sa.text("INSERT INTO note_tags (note_id, tag_id) VALUES (1, 1), (2, 1)"))
                conn.execute(sa.text("UPDATE notes SET deleted_at = now() WHERE id = 2"))
            _flask_db(app, "upgrade", "0017")
            count = sa.text("SELECT note_count FROM tags WHERE id = 1")
            with engine.begin() as conn:
                assert conn.execute(count).scalar() == 1
                conn.execute(sa.text("UPDATE notes SET deleted_at = NULL WHERE id = 2"))
                assert conn.execute(count).scalar() == 2
                conn.execute(sa.text("DELETE FROM users WHERE id = 1"))  # the account, with notes and tags
            _flask_db(app, "downgrade", "0016")
            with engine.connect() as conn:
                assert "note_count" not in {c["name"] for c in sa.inspect(conn).get_columns("tags")}
                functions = conn.execute(sa.text("SELECT proname FROM pg_proc WHERE proname LIKE 'notes_count%'"))
                assert functions.all() == []
            _flask_db(app, "upgrade")
        finally:
            engine.dispose()
            dispose(app)


def test_0018_counts_tag_links_per_statement_and_back(fresh_database: Callable[[], Any]) -> None:
    """The statement-level triggers keep the counts 0017's row-level one kept, and give way to it again."""
    with fresh_database() as url:
        app = create_app(e2e_config(url))
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        triggers = sa.text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'note_tags'::regclass AND tgname LIKE '%count%'"
        )
        count = sa.text("SELECT note_count FROM tags WHERE id = 1")
        try:
            _flask_db(app, "upgrade", "0017")
            _user_with_two_notes(engine)
            with engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO tags (id, owner_id, name, name_key, created_at) VALUES (1, 1, 'a', 'a', now())"
                    )
                )
                conn.execute(sa.text("INSERT INTO note_tags (note_id, tag_id) VALUES (1, 1)"))
            _flask_db(app, "upgrade", "0018")
            with engine.begin() as conn:
                assert sorted(conn.execute(triggers).scalars()) == [
                    "note_tags_count_delete",
                    "note_tags_count_insert",
                    "note_tags_count_update",
                ]
                assert conn.execute(count).scalar() == 1
                conn.execute(sa.text("INSERT INTO note_tags (note_id, tag_id) VALUES (2, 1)"))
                assert conn.execute(count).scalar() == 2
                conn.execute(sa.text("DELETE FROM note_tags WHERE note_id = 2"))
                assert conn.execute(count).scalar() == 1
                conn.execute(sa.text("INSERT INTO note_tags (note_id, tag_id) VALUES (2, 1)"))
            _flask_db(app, "downgrade", "0017")
            with engine.begin() as conn:
                assert list(conn.execute(triggers).scalars()) == ["note_tags_count"]
                conn.execute(sa.text("DELETE FROM note_tags WHERE note_id = 2"))
                assert conn.execute(count).scalar() == 1
            _flask_db(app, "upgrade")
        finally:
            engine.dispose()
            dispose(app)
