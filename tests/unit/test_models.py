"""Models: UTC timestamps, optimistic locking, and the rules the database
itself enforces (case-insensitive emails, cascading deletes)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.models import ApiToken, Note, User, UTCDateTime, db, utcnow

PLUS_TWO = timezone(timedelta(hours=2))


def test_note_builds_without_session_and_str_is_title():
    note = Note(title="Groceries", content="milk")
    assert "Groceries" in str(note)
    assert "Groceries" in repr(note)


def test_utcnow_is_aware_utc():
    assert utcnow().utcoffset() == timedelta(0)


# --- UTCDateTime -----------------------------------------------------------


def test_utc_datetime_refuses_naive_value_directly():
    with pytest.raises(ValueError, match="naive datetime given; use an aware UTC datetime"):
        UTCDateTime().process_bind_param(datetime(2024, 1, 1, 12, 0), sqlite.dialect())


def test_utc_datetime_refuses_naive_value_on_flush(app, factory):
    owner = factory.user()
    db.session.add(Note(owner=owner, title="t", content="", created_at=datetime(2024, 1, 1, 12, 0)))
    with pytest.raises(sa.exc.StatementError) as info:
        db.session.commit()
    assert isinstance(info.value.orig, ValueError)
    assert "aware UTC" in str(info.value.orig)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0


def test_utc_datetime_binds_naive_utc_on_sqlite_and_aware_utc_on_postgres():
    value = datetime(2024, 6, 1, 14, 30, tzinfo=PLUS_TWO)
    on_sqlite = UTCDateTime().process_bind_param(value, sqlite.dialect())
    on_postgres = UTCDateTime().process_bind_param(value, postgresql.dialect())
    assert on_sqlite == datetime(2024, 6, 1, 12, 30)
    assert on_sqlite.tzinfo is None
    assert on_postgres == datetime(2024, 6, 1, 12, 30, tzinfo=UTC)
    assert on_postgres.utcoffset() == timedelta(0)


def test_utc_datetime_result_is_aware_utc_for_both_stored_forms():
    decorator = UTCDateTime()
    naive = decorator.process_result_value(datetime(2024, 1, 1, 8, 0), sqlite.dialect())
    shifted = decorator.process_result_value(datetime(2024, 1, 1, 10, 0, tzinfo=PLUS_TWO), postgresql.dialect())
    assert naive == datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
    assert shifted == datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
    assert naive.tzinfo is UTC and shifted.tzinfo is UTC
    assert decorator.process_bind_param(None, sqlite.dialect()) is None
    assert decorator.process_result_value(None, sqlite.dialect()) is None


def test_utc_datetime_round_trip_converts_to_utc(app, factory):
    owner = factory.user()
    local = datetime(2024, 3, 10, 9, 15, 30, 123456, tzinfo=PLUS_TWO)
    note = factory.note(owner, created_at=local)
    stored = db.session.execute(sa.text("SELECT created_at FROM notes WHERE id = :id"), {"id": note.id}).scalar()
    assert str(stored).startswith("2024-03-10 07:15:30.123456")  # naive UTC on disk

    db.session.expire_all()
    loaded = db.session.get(Note, note.id)
    assert loaded.created_at == local
    assert loaded.created_at.tzinfo is UTC
    assert loaded.created_at.hour == 7
    assert loaded.updated_at.tzinfo is UTC


# --- optimistic locking ----------------------------------------------------


def test_version_starts_at_one_and_increments_on_update(app, factory):
    note = factory.note(factory.user())
    assert note.version == 1
    note.title = "changed"
    db.session.commit()
    assert note.version == 2
    note.content = "again"
    db.session.commit()
    assert db.session.scalar(sa.select(Note.version).where(Note.id == note.id)) == 3


def test_update_bumps_updated_at(app, factory):
    old = datetime(2020, 1, 1, tzinfo=UTC)
    note = factory.note(factory.user(), updated_at=old)
    note.title = "changed"
    db.session.commit()
    assert note.updated_at > old


def test_stale_update_from_second_session_raises(file_app):
    db.create_all()
    owner = User(email="a@example.com", password_hash="x")
    note = Note(owner=owner, title="original", content="")
    db.session.add(note)
    db.session.commit()
    assert note.title == "original"  # loaded at version 1 in the first session

    with Session(db.engine) as other:
        theirs = other.get(Note, note.id)
        theirs.title = "theirs"
        other.commit()

    note.title = "mine"
    with pytest.raises(StaleDataError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(sa.select(Note.title).where(Note.id == note.id)) == "theirs"


# --- rules the database enforces -------------------------------------------


def test_email_uniqueness_is_case_insensitive_in_the_database(app):
    # Bypasses accounts.create_user on purpose: the index alone must refuse it.
    db.session.add(User(email="Bob@Example.com", password_hash="x"))
    db.session.commit()
    db.session.add(User(email="bob@example.COM", password_hash="x"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_sqlite_foreign_keys_are_on(app):
    assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def test_deleting_a_user_cascades_in_the_database(app, factory):
    alice, bob = factory.user(), factory.user()
    factory.note(alice)
    factory.note(alice)
    factory.token(alice)
    factory.note(bob)
    factory.token(bob)
    # Core DELETE, so the ORM's own cascade plays no part.
    db.session.execute(sa.delete(User).where(User.id == alice.id))
    db.session.commit()
    assert db.session.scalars(sa.select(Note.owner_id)).all() == [bob.id]
    assert db.session.scalars(sa.select(ApiToken.owner_id)).all() == [bob.id]


def test_note_owner_is_required_in_the_database(app):
    db.session.add(Note(title="orphan", content=""))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


# --- ApiToken --------------------------------------------------------------

NOW = datetime(2025, 5, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("revoked", "expires_at", "usable"),
    [
        (False, None, True),
        (False, NOW + timedelta(seconds=1), True),
        (False, NOW, False),
        (False, NOW - timedelta(days=1), False),
        (True, None, False),
        (True, NOW + timedelta(days=1), False),
    ],
)
def test_api_token_is_usable(revoked, expires_at, usable):
    token = ApiToken(revoked=revoked, expires_at=expires_at)
    assert token.is_usable(NOW) is usable


def test_api_token_is_usable_defaults_to_now():
    assert ApiToken(revoked=False, expires_at=utcnow() + timedelta(minutes=5)).is_usable() is True
    assert ApiToken(revoked=False, expires_at=utcnow() - timedelta(minutes=5)).is_usable() is False


def test_hash_secret_is_sha256_hex():
    # A published SHA-256 test vector, not a recomputation of the code under test.
    assert ApiToken.hash_secret("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    secret = "nt_" + "A" * 43
    assert ApiToken.hash_secret(secret) == hashlib.sha256(secret.encode()).hexdigest()
    assert len(ApiToken.hash_secret(secret)) == 64
