"""Idempotency-Key on POST /notes, /tokens and /import: a retry gets the first answer, never a second write."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import sqlalchemy as sa
from tests.helpers.api import API, assert_problem, count, with_password
from tests.helpers.data import export_archive, exported_note
from tests.helpers.web import bearer

from app.models import ApiToken, AuthFailure, IdempotencyRecord, Note, db, utcnow

KEY = {"Idempotency-Key": '"8e03978e-40d5-43e8-bc93-6894a57f9324"'}


def test_a_retry_with_the_same_key_gets_the_first_answer_and_writes_nothing_more(client, headers):
    first = client.post(f"{API}/notes", json={"title": "once"}, headers={**headers, **KEY})
    again = client.post(f"{API}/notes", json={"title": "once"}, headers={**headers, **KEY})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.mimetype == "application/json"
    assert count(Note) == 1


def test_the_same_key_with_another_body_is_a_422_and_writes_nothing(client, headers):
    assert client.post(f"{API}/notes", json={"title": "once"}, headers={**headers, **KEY}).status_code == 201
    response = client.post(f"{API}/notes", json={"title": "another"}, headers={**headers, **KEY})
    assert "different request" in assert_problem(response, 422)["detail"]
    assert [n.title for n in db.session.scalars(sa.select(Note))] == ["once"]


def test_without_a_key_or_with_new_keys_every_request_writes(client, headers):
    client.post(f"{API}/notes", json={"title": "a"}, headers=headers)
    client.post(f"{API}/notes", json={"title": "a"}, headers=headers)
    client.post(f"{API}/notes", json={"title": "a"}, headers={**headers, "Idempotency-Key": "one"})
    client.post(f"{API}/notes", json={"title": "a"}, headers={**headers, "Idempotency-Key": "two"})
    assert count(Note) == 4


def test_a_quoted_key_and_the_bare_key_are_the_same_key(client, headers):
    client.post(f"{API}/notes", json={"title": "a"}, headers={**headers, "Idempotency-Key": '"k-1"'})
    client.post(f"{API}/notes", json={"title": "a"}, headers={**headers, "Idempotency-Key": "k-1"})
    assert count(Note) == 1


def test_keys_are_each_callers_own(client, headers, factory):
    _, bobs = factory.token(factory.user("bob@example.com"))
    client.post(f"{API}/notes", json={"title": "alice"}, headers={**headers, **KEY})
    response = client.post(f"{API}/notes", json={"title": "bob"}, headers={**bearer(bobs), **KEY})
    assert response.status_code == 201
    assert response.get_json()["title"] == "bob"
    assert count(Note) == 2


def test_a_malformed_key_is_a_400_and_writes_nothing(client, headers, subtests):
    for key in ["", '""', "x" * 256, "caf\u00e9"]:
        with subtests.test(key=key):
            header = {"Idempotency-Key": key.encode("utf-8").decode("latin-1")}
            response = client.post(f"{API}/notes", json={"title": "a"}, headers={**headers, **header})
            assert "Idempotency-Key" in assert_problem(response, 400)["detail"]
    assert count(Note) == 0
    assert count(IdempotencyRecord) == 0


def test_a_refused_request_keeps_no_record_so_the_corrected_retry_goes_through(client, headers):
    assert_problem(client.post(f"{API}/notes", json={"title": ""}, headers={**headers, **KEY}), 422)
    assert count(IdempotencyRecord) == 0
    assert client.post(f"{API}/notes", json={"title": ""}, headers={**headers, **KEY}).status_code == 422
    assert client.post(f"{API}/notes", json={"title": "fixed"}, headers={**headers, **KEY}).status_code == 201


def test_a_key_is_forgotten_after_24_hours(client, headers):
    client.post(f"{API}/notes", json={"title": "a"}, headers={**headers, **KEY})
    db.session.execute(sa.update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=24, minutes=1)))
    db.session.commit()
    assert client.post(f"{API}/notes", json={"title": "a"}, headers={**headers, **KEY}).status_code == 201
    assert count(Note) == 2
    assert count(IdempotencyRecord) == 1  # the expired one went


def test_an_answer_sealed_under_an_earlier_secret_key_is_a_409_not_a_second_note(app, client, headers):
    client.post(f"{API}/notes", json={"title": "a"}, headers={**headers, **KEY})
    app.config["SECRET_KEY"] = "a-new-secret-key-after-a-rotation-0000000000"
    response = client.post(f"{API}/notes", json={"title": "a"}, headers={**headers, **KEY})
    assert "can no longer be read" in assert_problem(response, 409)["detail"]
    assert count(Note) == 1


def test_a_token_creation_retried_gets_the_same_secret_which_the_database_holds_only_encrypted(client, logged_in):
    body = with_password({"name": "cli"})
    first = client.post(f"{API}/tokens", json=body, headers=KEY)
    again = client.post(f"{API}/tokens", json=body, headers=KEY)
    assert first.status_code == again.status_code == 201
    secret = first.get_json()["token"]
    assert again.get_json()["token"] == secret
    assert count(ApiToken) == 1
    (stored,) = db.session.scalars(sa.select(IdempotencyRecord.answer)).all()
    assert secret not in stored and secret.encode().hex() not in stored


def test_an_import_retried_imports_once(client, headers):
    archive = export_archive([exported_note(tags=["t"])])
    zip_headers = {**headers, **KEY, "Content-Type": "application/zip"}
    first = client.post(f"{API}/import", data=archive, headers=zip_headers)
    again = client.post(f"{API}/import", data=archive, headers=zip_headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() == {"imported": 1, "source": "a Notes export", "skipped": []}
    assert count(Note) == 1


def test_the_note_is_never_committed_without_its_stored_answer(app, client, headers, monkeypatch):
    """The note, the key's record and the answer commit together: no window for a lost answer."""

    def fail(key, response):  # type: ignore[no-untyped-def]
        raise RuntimeError("the process stops before the answer is stored")

    monkeypatch.setattr("app.http.idempotency._seal", fail)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.post(f"{API}/notes", json={"title": "once"}, headers={**headers, **KEY}).status_code == 500
    assert (count(Note), count(IdempotencyRecord)) == (0, 0)
    monkeypatch.undo()
    assert client.post(f"{API}/notes", json={"title": "once"}, headers={**headers, **KEY}).status_code == 201
    assert client.post(f"{API}/notes", json={"title": "once"}, headers={**headers, **KEY}).status_code == 201
    assert count(Note) == 1


def test_a_token_cannot_fetch_a_token_secret_by_replaying_a_key(client, logged_in, alice_secret):
    """A stolen token sending a key the session used gets 403, not the stored secret."""
    body = with_password({"name": "cli"})
    assert client.post(f"{API}/tokens", json=body, headers=KEY).status_code == 201
    response = client.post(f"{API}/tokens", json=body, headers={**bearer(alice_secret), **KEY})
    body_text = response.get_data(as_text=True)
    assert "cannot create tokens" in assert_problem(response, 403)["detail"]
    assert "nt_" not in body_text


def test_wrong_passwords_sent_with_a_used_key_are_checked_and_throttled(app, client, logged_in):
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP"] = 3
    app.config["LOGIN_MAX_FAILURES_PER_DEVICE"] = 3
    assert client.post(f"{API}/tokens", json=with_password({"name": "cli"}), headers=KEY).status_code == 201
    for _ in range(3):
        wrong = client.post(f"{API}/tokens", json={"name": "cli", "password": "a wrong guess"}, headers=KEY)
        assert_problem(wrong, 403)
    assert count(AuthFailure) > 0
    assert_problem(client.post(f"{API}/tokens", json=with_password({"name": "cli"}), headers=KEY), 429)


def test_the_stored_fingerprint_is_keyed_so_a_copy_of_the_table_cannot_test_passwords(client, logged_in):
    body = with_password({"name": "cli"})
    response = client.post(f"{API}/tokens", json=body, headers=KEY)
    assert response.status_code == 201
    (stored,) = db.session.scalars(sa.select(IdempotencyRecord.request_hash)).all()
    raw = json.dumps(body).encode()
    for plain in (hashlib.sha256(raw).hexdigest(), hashlib.sha256(b"POST\0/api/v1/tokens\0" + raw + b"\0").hexdigest()):
        assert stored != plain


def test_expired_records_of_every_caller_go_on_any_keyed_request(client, headers, factory):
    _, bobs = factory.token(factory.user("bob@example.com"))
    client.post(f"{API}/notes", json={"title": "bob"}, headers={**bearer(bobs), "Idempotency-Key": "bob-1"})
    db.session.execute(sa.update(IdempotencyRecord).values(created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    client.post(f"{API}/notes", json={"title": "alice"}, headers={**headers, **KEY})
    assert count(IdempotencyRecord) == 1  # alice's; bob's expired one went too
