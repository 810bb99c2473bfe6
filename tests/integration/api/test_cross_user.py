"""Bob, by session or by his own token, can neither see nor touch alice's notes and tokens."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.helpers.api import API, assert_problem, etag, fresh_note, fresh_token, login
from tests.helpers.data import PASSWORD
from tests.helpers.web import bearer

TRASHED_AT = datetime(2020, 1, 1, tzinfo=UTC)

# Restore and delete-forever target a note in the trash, so that a missing
# ownership check would succeed (200/204) rather than fail with 409 anyway.
ROUTES = [
    ("get", "/notes/{live}"),
    ("patch", "/notes/{live}"),
    ("delete", "/notes/{live}"),
    ("post", "/notes/{trashed}/restore"),
    ("delete", "/trash/{trashed}"),
    ("get", "/tokens/{token}"),
    ("delete", "/tokens/{token}"),
]


@pytest.fixture
def alices_things(factory, user):  # type: ignore[no-untyped-def]
    live = factory.note(user, title="Alice live", content="private")
    trashed = factory.note(user, title="Alice binned", deleted_at=TRASHED_AT)
    token, _ = factory.token(user, name="alice token")
    return live, trashed, token


@pytest.fixture(params=["session", "token"])
def as_bob(request, app, factory):  # type: ignore[no-untyped-def]
    """A client and headers acting as bob, through his session or his token."""
    bob = factory.user("bob@example.com")
    factory.note(bob, title="Bob's own")
    client = app.test_client()
    if request.param == "session":
        login(client, bob.email, PASSWORD)
        return client, {}
    _, secret = factory.token(bob, name="bob token")
    return client, bearer(secret)


def _state(note_id: int) -> tuple[object, ...] | None:
    note = fresh_note(note_id)
    return None if note is None else (note.title, note.content, note.version, note.deleted_at, note.updated_at)


def test_other_users_note_or_token_is_404_and_untouched(as_bob, alices_things, subtests):
    client, headers = as_bob
    live, trashed, token = alices_things
    before = {note.id: _state(note.id) for note in (live, trashed)}
    # A valid If-Match for alice's note: only the ownership check may stop bob.
    headers = {**headers, "If-Match": etag(live)}

    for method, path in ROUTES:
        with subtests.test(method=method, path=path):
            url = API + path.format(live=live.id, trashed=trashed.id, token=token.id)
            body = {"title": "pwned"} if method == "patch" else None

            response = getattr(client, method)(url, json=body, headers=headers)

            problem = assert_problem(response, 404)
            assert "Alice" not in response.get_data(as_text=True) and "private" not in problem["detail"]
            assert {note_id: _state(note_id) for note_id in before} == before
            stored = fresh_token(token.id)
            assert stored is not None and stored.revoked is False


def test_other_users_notes_and_tokens_are_not_listed(as_bob, alices_things):
    client, headers = as_bob
    for query in ("", "?trashed=true", "?archived=true"):
        titles = [n["title"] for n in client.get(f"{API}/notes{query}", headers=headers).get_json()["items"]]
        assert not any(t.startswith("Alice") for t in titles)
    names = [t["name"] for t in client.get(f"{API}/tokens", headers=headers).get_json()["items"]]
    assert "alice token" not in names


def test_missing_and_foreign_notes_look_the_same(as_bob, alices_things):
    client, headers = as_bob
    live, _, _ = alices_things
    foreign = client.get(f"{API}/notes/{live.id}", headers=headers).get_json()
    missing = client.get(f"{API}/notes/99999", headers=headers).get_json()
    assert foreign == missing
