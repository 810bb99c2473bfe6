"""What PostgreSQL itself guarantees: email uniqueness whatever the case, and
timestamps that keep their instant and time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.exc import IntegrityError
from tests.helpers.data import PASSWORD, Factory
from tests.helpers.e2e import API, count, text
from tests.helpers.web import bearer

from app.accounts import service as accounts
from app.models import Note, User, db

pytestmark = pytest.mark.e2e


# --- case-insensitive email uniqueness ------------------------------------------


def test_database_refuses_an_email_differing_only_in_case(app) -> None:
    # Straight to the database, past create_user's own lookup.
    db.session.add(User(email="A@x.com", password_hash="not-a-hash"))
    db.session.commit()
    db.session.add(User(email="a@x.com", password_hash="not-a-hash"))
    with pytest.raises(IntegrityError, match="uq_users_email_lower"):
        db.session.commit()
    db.session.rollback()
    assert count(User, sa.func.lower(User.email) == "a@x.com") == 1


def test_database_refuses_it_in_plain_sql_too(app) -> None:
    insert = sa.text("INSERT INTO users (email, password_hash, created_at) VALUES (:email, 'x', now())")
    db.session.execute(insert, {"email": "Bob@Example.com"})
    with pytest.raises(IntegrityError, match="uq_users_email_lower"):
        db.session.execute(insert, {"email": "bob@EXAMPLE.COM"})
    db.session.rollback()


def test_sign_up_race_lost_to_the_database_is_a_form_error(
    app, client: FlaskClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sign-ups can both pass the "is this email taken?" lookup; the
    unique index then stops the second, which must get the form's message."""
    factory.user("carol@example.com")
    monkeypatch.setattr(accounts, "find_user_by_email", lambda email: None)

    response = client.post(
        "/auth/register", data={"email": "Carol@Example.com", "password": PASSWORD, "confirm": PASSWORD}
    )

    assert response.status_code == 400
    assert "already exists" in text(response)
    assert count(User, sa.func.lower(User.email) == "carol@example.com") == 1


# --- timestamps -------------------------------------------------------------------

# Not UTC, with microseconds, so a lost offset or truncated precision shows.
KOLKATA = timezone(timedelta(hours=5, minutes=30))
MOMENT = datetime(2031, 3, 4, 5, 6, 7, 891011, tzinfo=KOLKATA)


def test_timestamp_columns_are_timestamptz(app) -> None:
    rows = db.session.execute(
        sa.text(
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_name LIKE '%\\_at' ESCAPE '\\'"
        )
    ).all()
    assert dict(rows) == {
        name: "timestamp with time zone"
        for name in (
            "users.created_at",
            "notes.created_at",
            "notes.updated_at",
            "notes.deleted_at",
            "api_tokens.created_at",
            "api_tokens.last_used_at",
            "api_tokens.expires_at",
            "login_sessions.created_at",
            "login_sessions.last_seen_at",
            "auth_failures.created_at",
            "tags.created_at",
            "rate_events.created_at",
            "idempotency_records.created_at",
            "users.disabled_at",
            "invites.created_at",
            "invites.expires_at",
            "invites.used_at",
            "audit_events.created_at",
            "password_resets.created_at",
            "password_resets.expires_at",
            "password_resets.used_at",
            "users.totp_enabled_at",
            "recovery_codes.created_at",
            "recovery_codes.used_at",
            "two_factor_challenges.created_at",
            "oidc_identities.created_at",
            "oidc_identities.last_login_at",
            "note_revisions.created_at",
            "note_revisions.saved_at",
            "note_revisions.last_save_at",
            "note_shares.created_at",
            "note_shares.expires_at",
            "note_attachments.created_at",
            "note_shares.revoked_at",
        )
    }


def test_timestamps_round_trip_as_the_same_instant_in_utc(app, factory: Factory) -> None:
    # A session time zone far from both UTC and MOMENT's offset: whatever the
    # server hands back must still be converted to UTC. Rolled back with the test.
    db.session.execute(sa.text("SET TIME ZONE 'America/New_York'"))
    note = factory.note(factory.user(), created_at=MOMENT, updated_at=MOMENT, deleted_at=MOMENT)
    note_id = note.id
    db.session.expunge_all()

    loaded = db.session.get(Note, note_id)
    assert loaded is not None
    for value in (loaded.created_at, loaded.updated_at, loaded.deleted_at):
        assert value == MOMENT  # the same instant
        assert value.tzinfo is UTC
        assert value == datetime(2031, 3, 3, 23, 36, 7, 891011, tzinfo=UTC)

    stored = db.session.scalar(
        sa.text("SELECT created_at AT TIME ZONE 'UTC' FROM notes WHERE id = :id"), {"id": note_id}
    )
    assert stored == datetime(2031, 3, 3, 23, 36, 7, 891011)


def test_api_sends_timestamps_in_utc_with_their_offset(app, client: FlaskClient, factory: Factory) -> None:
    db.session.execute(sa.text("SET TIME ZONE 'Pacific/Auckland'"))
    user = factory.user()
    note = factory.note(user, created_at=MOMENT, updated_at=MOMENT)
    _, secret = factory.token(user)

    body = client.get(f"{API}/notes/{note.id}", headers=bearer(secret)).get_json()

    assert body["created_at"] == "2031-03-03T23:36:07.891011+00:00"
    assert datetime.fromisoformat(body["updated_at"]) == MOMENT


def test_naive_datetimes_never_reach_the_database(app, factory: Factory) -> None:
    user = factory.user()
    db.session.add(Note(owner=user, title="naive", created_at=datetime(2031, 3, 4, 5, 6, 7)))
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        db.session.flush()
    db.session.rollback()
    assert count(Note, Note.title == "naive") == 0
