"""Migrations build the same schema the models describe, and run both ways."""

from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from app.models import db, include_in_autogenerate, render_alembic_type

APP_TABLES = {
    "users",
    "notes",
    "api_tokens",
    "login_sessions",
    "auth_failures",
    "tags",
    "note_tags",
    "notes_fts",
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


def table_names() -> set[str]:
    """The app's tables; the FTS5 index's own shadow tables are counted as one."""
    names = set(sa.inspect(db.engine).get_table_names())
    return {name for name in names if not name.startswith("notes_fts_")}


# SQLite cannot reflect the lower(email) index, so autogenerate skips it;
# test_migrated_database_enforces_case_insensitive_email covers it instead.
SKIPPED_EXPRESSION_INDEX = pytest.mark.filterwarnings(
    "ignore:.*expression-based index uq_users_email_lower",
    "ignore:autogenerate skipping metadata-specified expression-based index 'uq_users_email_lower'",
)


def schema_differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "render_item": render_alembic_type,
                "include_object": include_in_autogenerate,
            },
        )
        return compare_metadata(context, db.metadata)


def test_upgrade_builds_schema_from_nothing(file_app):
    assert table_names() == set()
    flask_migrate.upgrade()
    assert table_names() == APP_TABLES | {"alembic_version"}
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == _head()


def _head() -> str:
    """The newest revision in web/migrations."""
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


def test_downgrade_to_base_and_upgrade_again(file_app):
    flask_migrate.upgrade()
    flask_migrate.downgrade(revision="base")
    assert table_names() == {"alembic_version"}
    flask_migrate.upgrade()
    assert table_names() == APP_TABLES | {"alembic_version"}


@SKIPPED_EXPRESSION_INDEX
def test_migrated_schema_matches_models(file_app):
    flask_migrate.upgrade()
    assert schema_differences() == []


@SKIPPED_EXPRESSION_INDEX
def test_comparison_would_notice_a_drift(file_app):
    # Guards the test above: a schema that differs must not compare clean.
    flask_migrate.upgrade()
    with db.engine.begin() as connection:
        connection.execute(sa.text("DROP INDEX ix_notes_owner_list"))
    assert schema_differences() != []


def test_migrated_database_enforces_case_insensitive_email(file_app):
    flask_migrate.upgrade()
    insert = sa.text("INSERT INTO users (email, password_hash, created_at) VALUES (:email, 'h', '2025-01-01')")
    with db.engine.begin() as connection:
        connection.execute(insert, {"email": "A@x.org"})
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as connection:
        connection.execute(insert, {"email": "a@X.org"})


def test_migrated_database_cascades_user_deletes(file_app):
    flask_migrate.upgrade()
    from app.models import Note, User

    user = User(email="a@example.com", password_hash="h")
    db.session.add(Note(owner=user, title="t", content=""))
    db.session.commit()
    db.session.execute(sa.delete(User))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0


def _columns(table: str) -> list[str]:
    return [column["name"] for column in sa.inspect(db.engine).get_columns(table)]


def test_0012_adds_the_session_device_columns_and_takes_them_back_keeping_rows(file_app):
    flask_migrate.upgrade(revision="0011")
    with db.engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO users (id, email, password_hash, created_at) VALUES (1, 'a@x.org', 'h', '2025-01-01')")
        )
        connection.execute(
            sa.text(
                "INSERT INTO login_sessions (user_id, token_hash, remember, created_at, last_seen_at)"
                " VALUES (1, 'h1', 0, '2025-01-01', '2025-01-01')"
            )
        )

    flask_migrate.upgrade(revision="0012")
    assert _columns("login_sessions")[-2:] == ["user_agent", "ip"]
    with db.engine.connect() as connection:
        # A session from before the revision has no device: NULL, shown as unknown.
        assert connection.execute(sa.text("SELECT token_hash, user_agent, ip FROM login_sessions")).all() == [
            ("h1", None, None)
        ]

    flask_migrate.downgrade(revision="0011")
    assert "user_agent" not in _columns("login_sessions") and "ip" not in _columns("login_sessions")
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT token_hash FROM login_sessions")).scalars().all() == ["h1"]
    # Neither way copied the users table, so its lower(email) index is still there.
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO users (email, password_hash, created_at) VALUES ('A@X.org', 'h', '2025-01-01')")
        )


def _user_with_two_notes() -> None:
    """User 1 with notes 1 and 2, written with SQL as any revision's schema takes them."""
    note = (
        "INSERT INTO notes (id, owner_id, title, content, pinned, archived, created_at, updated_at, version)"
        " VALUES (:id, 1, 't', 'c', 0, 0, '2025-01-01', '2025-01-01', 1)"
    )
    with db.engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO users (id, email, password_hash, created_at) VALUES (1, 'a@x.org', 'h', '2025-01-01')")
        )
        connection.execute(sa.text(note), [{"id": 1}, {"id": 2}])


def test_0013_adds_note_revisions_that_go_with_their_note_and_takes_it_back(file_app):
    flask_migrate.upgrade(revision="0012")
    _user_with_two_notes()

    flask_migrate.upgrade(revision="0013")
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO note_revisions (note_id, note_version, saved_at, title, content, tags, author_id,"
                " client, created_at, last_save_at) VALUES (:id, 1, '2025-01-01', 'old', 'old', '', 1, '',"
                " '2025-01-01', '2025-01-01')"
            ),
            [{"id": 1}, {"id": 2}],
        )
        connection.execute(sa.text("DELETE FROM notes WHERE id = 2"))
        assert connection.execute(sa.text("SELECT note_id FROM note_revisions")).scalars().all() == [1]

    flask_migrate.downgrade(revision="0012")
    assert "note_revisions" not in table_names()
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT id FROM notes")).scalars().all() == [1]


def test_0014_adds_note_shares_that_go_with_their_note_and_takes_them_back(file_app):
    flask_migrate.upgrade(revision="0013")
    _user_with_two_notes()

    flask_migrate.upgrade(revision="0014")
    share = "INSERT INTO note_shares (note_id, token_hash, created_at) VALUES (:id, :hash, '2025-01-01')"
    with db.engine.begin() as connection:
        connection.execute(sa.text(share), [{"id": 1, "hash": "a" * 64}, {"id": 2, "hash": "b" * 64}])
        connection.execute(sa.text("DELETE FROM notes WHERE id = 2"))
        assert connection.execute(sa.text("SELECT note_id FROM note_shares")).scalars().all() == [1]
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as connection:
        connection.execute(sa.text(share), {"id": 1, "hash": "a" * 64})  # one secret, one link

    flask_migrate.downgrade(revision="0013")
    assert "note_shares" not in table_names()
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT id FROM notes")).scalars().all() == [1]


def test_0015_adds_note_attachments_that_go_with_their_note_and_takes_them_back(file_app):
    flask_migrate.upgrade(revision="0014")
    _user_with_two_notes()

    flask_migrate.upgrade(revision="0015")
    row = (
        "INSERT INTO note_attachments (note_id, owner_id, key, filename, content_type, size, sha256, created_at) "
        "VALUES (:id, 1, :key, 'a.png', 'image/png', 3, :sha, '2025-01-01')"
    )
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(row), [{"id": 1, "key": "k1", "sha": "a" * 64}, {"id": 2, "key": "k2", "sha": "a" * 64}]
        )
        connection.execute(sa.text("DELETE FROM notes WHERE id = 2"))
        assert connection.execute(sa.text("SELECT key FROM note_attachments")).scalars().all() == ["k1"]
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as connection:
        connection.execute(sa.text(row), {"id": 1, "key": "k1", "sha": "b" * 64})  # one key, one file

    flask_migrate.downgrade(revision="0014")
    assert "note_attachments" not in table_names()
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT id FROM notes")).scalars().all() == [1]


def test_0016_fills_each_notes_excerpt_and_takes_the_columns_back(file_app):
    from app.notes.markdown import EXCERPT_VERSION

    flask_migrate.upgrade(revision="0015")
    _user_with_two_notes()
    with db.engine.begin() as connection:
        connection.execute(sa.text("UPDATE notes SET content = '# Big *plan*' WHERE id = 2"))

    flask_migrate.upgrade(revision="0016")
    with db.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT id, excerpt, excerpt_version FROM notes ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, "c", EXCERPT_VERSION), (2, "Big plan", EXCERPT_VERSION)]
        # Search still finds notes: the full-text triggers on notes survived the new columns.
        connection.execute(sa.text("UPDATE notes SET content = 'zebra' WHERE id = 1"))
        assert connection.execute(sa.text("SELECT rowid FROM notes_fts WHERE notes_fts MATCH 'zebra'")).all() == [(1,)]

    flask_migrate.downgrade(revision="0015")
    with db.engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("notes")}
    assert "excerpt" not in columns and "excerpt_version" not in columns
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT id FROM notes ORDER BY id")).scalars().all() == [1, 2]


def test_0017_counts_each_tags_live_notes_and_keeps_them_counted(file_app):
    flask_migrate.upgrade(revision="0016")
    _user_with_two_notes()
    with db.engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO tags (id, owner_id, name, name_key, created_at) VALUES (1, 1, 'a', 'a', '2025-01-01')")
        )
        connection.execute(sa.text("INSERT INTO note_tags (note_id, tag_id) VALUES (1, 1), (2, 1)"))
        connection.execute(sa.text("UPDATE notes SET deleted_at = '2025-02-01' WHERE id = 2"))

    flask_migrate.upgrade(revision="0017")
    count = sa.text("SELECT note_count FROM tags WHERE id = 1")
    with db.engine.begin() as connection:
        assert connection.execute(count).scalar() == 1  # the live note only
        connection.execute(sa.text("UPDATE notes SET deleted_at = NULL WHERE id = 2"))
        assert connection.execute(count).scalar() == 2  # the triggers count from here on
        connection.execute(sa.text("DELETE FROM notes WHERE id = 1"))
        assert connection.execute(count).scalar() == 1

    flask_migrate.downgrade(revision="0016")
    with db.engine.connect() as connection:
        assert "note_count" not in {c["name"] for c in sa.inspect(connection).get_columns("tags")}
        triggers = connection.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
        assert not [t for t in triggers if "count" in t]
        connection.execute(
            sa.text("UPDATE notes SET deleted_at = '2025-03-01' WHERE id = 2")
        )  # no trigger left to fail
